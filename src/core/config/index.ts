export * from './types';
export * from './configError';
export { loadConfig, parseConfigText, resolveConfigPath, defaultConfig, EXPERIMENT_SCHEMA } from './loadConfig';
