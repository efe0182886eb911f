/**
 * A network whose calls give the event loop a turn. The torch engine computes synchronously, and awaiting an
 * already-settled promise only runs microtasks, so a pass of thousands of tiles over an image held in memory never
 * let Ctrl-C, an orphaned process's check or a queue worker's lock renewal run (SIGINT once took 438 s to act).
 * Before a call, when the last turn is older than `everyMs`, this waits for one macrotask turn (setImmediate in
 * Node, a message to itself in a browser): timers, signals and I/O callbacks run, then the call goes on. The cost is one
 * turn per `everyMs` of network work.
 */
import type { SegmentationNetwork } from '../types/network.js';

// Looked up on globalThis: the browser core is type-checked without Node's types, where setImmediate is not declared.
const setImmediateOrUndefined = (globalThis as { setImmediate?: (callback: () => void) => unknown }).setImmediate;
const nextTurn: () => Promise<void> = setImmediateOrUndefined
  ? () => new Promise((resolve) => setImmediateOrUndefined(() => resolve()))
  : typeof MessageChannel === 'function'
    ? messageTurn()
    : () => new Promise((resolve) => setTimeout(resolve, 0));

/**
 * A turn of a browser's (or a worker's) event loop by a message to itself: unlike setTimeout(0), which browsers
 * clamp to 4 ms once timeouts nest, a message is handled as soon as the queue reaches it.
 */
function messageTurn(): () => Promise<void> {
  const channel = new MessageChannel();
  const waiting: (() => void)[] = [];
  // The browser's MessagePort (Node's types, which this core is also checked with, declare only listeners).
  (channel.port1 as unknown as { onmessage: (() => void) | null }).onmessage = () => waiting.shift()?.();
  return () =>
    new Promise((resolve) => {
      waiting.push(resolve);
      channel.port2.postMessage(null);
    });
}

export function yieldingNetwork<N extends SegmentationNetwork>(network: N, everyMs = 50): N {
  let last = performance.now();
  const call = async (inputs: Parameters<SegmentationNetwork>[0]) => {
    if (performance.now() - last >= everyMs) {
      await nextTurn();
      last = performance.now();
    }
    return network(inputs);
  };
  // Keeps what else the network carries (dispose).
  return Object.assign(call, network) as N;
}
