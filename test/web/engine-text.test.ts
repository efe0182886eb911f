import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { engineLine } from '../../web/src/ui/engine-text.js';

describe("the page's engine line", () => {
  it('names the backend, SIMD and the threads, and why wasm runs on one thread when it does', () => {
    assert.equal(engineLine({ backend: 'wasm', skipped: [], isolated: true, simd: true, threads: 2 }), 'Engine: TensorFlow.js wasm, SIMD, 2 threads.');
    assert.equal(
      engineLine({ backend: 'wasm', skipped: ['webgpu: this browser has no WebGPU'], isolated: false, simd: true, threads: 1, singleThread: 'the page is not cross-origin isolated' }),
      'Engine: TensorFlow.js wasm, SIMD, 1 thread (one thread: the page is not cross-origin isolated); not used: webgpu: this browser has no WebGPU.',
    );
    assert.equal(engineLine({ backend: 'webgpu', skipped: [], isolated: true }), 'Engine: TensorFlow.js webgpu.');
  });
});

describe("the page's note when the backend asked for does not run", () => {
  it('names the backend asked for, why it cannot run and what runs instead; nothing when it runs or auto chose', async () => {
    const { fallbackNote } = await import('../../web/src/ui/engine-text.js');
    const wasm = { backend: 'wasm', skipped: ['webgpu: the browser offers no WebGPU adapter (no usable GPU)'], isolated: true, simd: true, threads: 2 };
    assert.equal(
      fallbackNote('webgpu', wasm),
      'WebGPU was asked for (?backend=webgpu) but cannot run here: the browser offers no WebGPU adapter (no usable GPU). Running on TensorFlow.js wasm instead; open the page without ?backend= to let it choose.',
    );
    assert.equal(fallbackNote('auto', wasm), undefined);
    assert.equal(fallbackNote('wasm', wasm), undefined);
  });
});
