/**
 * Choosing the TensorFlow.js backend, one way in Node and in the browser: candidates tried in priority order, as
 * onnxruntime-web's backend-impl tries its backends; the first that starts wins, and if none does, one error says
 * what each failed on. Node's list is torch, wasm, cpu (engine/backend.ts); the page's webgpu, webgl, wasm
 * (web/src/worker/backend.ts). Platform-free.
 */
import { StsError } from '../errors.js';

export interface BackendCandidate<N extends string = string> {
  readonly name: N;
  /** Starts the backend; resolves to null once it runs, or to why it cannot run here. */
  start(): Promise<string | null>;
}

export interface StartedBackend<N extends string = string> {
  readonly backend: N;
  /** Why each candidate tried before it did not start. */
  readonly skipped: { readonly backend: N; readonly reason: string }[];
}

/** Starts the first candidate that runs; `remedy` ends the error when none does (what the user can do). */
export async function startFirstBackend<N extends string>(candidates: readonly BackendCandidate<N>[], remedy: string): Promise<StartedBackend<N>> {
  const skipped: { backend: N; reason: string }[] = [];
  for (const candidate of candidates) {
    let reason: string | null;
    try {
      reason = await candidate.start();
    } catch (error) {
      reason = error instanceof Error ? error.message : String(error);
    }
    if (reason === null) return { backend: candidate.name, skipped };
    skipped.push({ backend: candidate.name, reason });
  }
  throw new StsError(`no TensorFlow.js backend could start (${describeSkipped(skipped)}); ${remedy}`);
}

/** "a: why; b: why", for messages. */
export function describeSkipped(skipped: StartedBackend['skipped']): string {
  return skipped.map((s) => `${s.backend}: ${s.reason}`).join('; ');
}
