/**
 * Old name of eventSchema.ts, kept only for test/e2e/training.test.ts (not edited on this branch);
 * delete once it imports from './eventSchema'.
 */
export type * from './eventSchema';
