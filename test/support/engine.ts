/**
 * Tests run the networks on the engine users get: torch when the addon is built, else wasm, else cpu (STS_BACKEND
 * picks one). Results are compared with tolerances where float order may differ between engines.
 */
import { initEngine, tf } from '../../src/engine/backend.js';

export const engine = await initEngine({ warn: null });

export { tf };
