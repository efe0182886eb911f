/** Tests run the networks on TensorFlow.js's cpu backend: always available, deterministic, no native build. */
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';

tf.env().set('PROD', true); // silences the "install tfjs-node" banner
await tf.setBackend('cpu');

export { tf };
