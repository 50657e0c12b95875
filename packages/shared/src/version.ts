/** The release version of both programs (kept equal to the root package.json). */
export const SENTINELA_VERSION = '0.1.0';
