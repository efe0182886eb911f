import { fileURLToPath } from 'node:url';

/** The package's root folder (this file compiles to dist/src/paths.js). */
export const packageRoot = fileURLToPath(new URL('../../', import.meta.url));
