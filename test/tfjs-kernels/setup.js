// Bundled first (before tfjs-core's tests.js): registers the torch backend and makes it the only test environment.
import { setTestEnvs } from '@tensorflow/tfjs-core/dist/jasmine_util';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops';
import { registerTorchBackend, nativeLoadError } from '../../src/engine/torch/index.ts';

if (!registerTorchBackend()) {
  throw new Error(`cannot run the tfjs kernel suite on torch: ${nativeLoadError()}`);
}
setTestEnvs([{ name: 'torch', backendName: 'torch', flags: {}, isDataSync: true }]);
