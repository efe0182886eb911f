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

/**
 * When the page was asked for one backend (`?backend=webgpu`) and runs another, what to tell the user: which, why
 * it did not start, and what runs instead. Undefined when it runs what was asked (or `auto` chose).
 */
export function fallbackNote(asked: string, engine: EngineInfo): string | undefined {
  if (asked === 'auto' || engine.backend === asked) return undefined;
  const why = engine.skipped.find((s) => s.startsWith(`${asked}: `))?.slice(asked.length + 2) ?? 'it did not start';
  return `${asked === 'webgpu' ? 'WebGPU' : asked === 'webgl' ? 'WebGL' : asked} was asked for (?backend=${asked}) but cannot run here: ${why}. Running on TensorFlow.js ${engine.backend} instead; open the page without ?backend= to let it choose.`;
}
