import pkg from '../../package.json';

/** Version of Retrieval Lens, written into every run's meta.json. */
export const VERSION: string = pkg.version;
