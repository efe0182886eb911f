/** What the page says about the engine the worker started: the backend, its threads, and why it fell back. */
import type { EngineInfo } from '../worker/protocol.js';

export function engineLine(engine: EngineInfo): string {
  const parts = [`Engine: TensorFlow.js ${engine.backend}`];
  if (engine.backend === 'wasm') {
    const threads = engine.threads ?? 1;
    parts.push(`${engine.simd ? 'SIMD' : 'no SIMD'}, ${threads} thread${threads === 1 ? '' : 's'}${engine.singleThread ? ` (one thread: ${engine.singleThread})` : ''}`);
  }
  let line = parts.join(', ');
  if (engine.skipped.length) line += `; not used: ${engine.skipped.join('; ')}`;
  return `${line}.`;
}
