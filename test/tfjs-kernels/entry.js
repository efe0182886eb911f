import './setup.js';
import '@tensorflow/tfjs-core/dist/tests';
