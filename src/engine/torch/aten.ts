/**
 * ATen operators as functions, and the bookkeeping that frees the temporary native handles a kernel makes.
 *
 * `aten('conv2d')(x, w, ...)` calls `aten::conv2d` through the addon. Every handle an operator returns is noted;
 * when a kernel ends, {@link runKernelScope} frees all handles made during it except those the backend kept as
 * outputs, so views and intermediates never wait for V8's garbage collector to release their memory.
 */
import { requireNative, type NativeArg, type NativeOp, type NativeResult, type NativeTensor, type TorchAddon } from './native.js';

let addon: TorchAddon | null = null;
function nat(): TorchAddon {
  return (addon ??= requireNative());
}

const created: NativeTensor[] = [];
/** Handles made by operators (never a stored tensor's own handle, which a kernel must not hand out again). */
const fresh = new WeakSet<NativeTensor>();

export function isFresh(t: NativeTensor): boolean {
  return fresh.has(t);
}
let depth = 0;

function note(r: NativeResult): void {
  if (r === null || typeof r !== 'object') return;
  if (Array.isArray(r)) {
    for (const x of r) note(x);
  } else {
    fresh.add(r);
    if (depth > 0) created.push(r);
  }
}

export type AtenFn = (...args: NativeArg[]) => NativeResult;
const ops = new Map<string, NativeOp>();

/** An ATen operator by name and overload (as in native_functions.yaml), resolved once, on first call. */
export function aten(name: string, overload = ''): AtenFn {
  const key = `${name}.${overload}`;
  let op: NativeOp | undefined;
  return (...args: NativeArg[]) => {
    if (op === undefined) {
      op = ops.get(key);
      if (op === undefined) {
        op = nat().op(`aten::${name}`, overload);
        ops.set(key, op);
      }
    }
    const r = nat().call(op, ...args);
    note(r);
    return r;
  };
}

/** Like {@link aten} for operators that return one tensor. */
export function aten1(name: string, overload = ''): (...args: NativeArg[]) => NativeTensor {
  return aten(name, overload) as (...args: NativeArg[]) => NativeTensor;
}

/** Notes a handle made outside `aten` (a view, a fromArray) so that the kernel scope frees it. */
export function temp(t: NativeTensor): NativeTensor {
  fresh.add(t);
  if (depth > 0) created.push(t);
  return t;
}

const kept = new Set<NativeTensor>();

/** Marks a handle as kept (stored by the backend as a kernel output): its scope will not free it. */
export function keep(t: NativeTensor): NativeTensor {
  fresh.delete(t); // stored now: a later kernel that gets it as an input must not store it again
  if (depth > 0) kept.add(t);
  return t;
}

/**
 * Runs `f`, then frees every native handle made during it except those marked with {@link keep}. Nested scopes
 * leave freeing to the outermost one.
 */
export function runKernelScope<T>(f: () => T): T {
  const mark = created.length;
  depth++;
  try {
    return f();
  } finally {
    depth--;
    if (depth === 0) {
      const n = nat();
      for (let i = mark; i < created.length; i++) {
        const h = created[i];
        if (!kept.has(h)) n.free(h);
      }
      created.length = mark;
      kept.clear();
    }
  }
}

/** A dtype cast (`Tensor.to(dtype)`): the backend itself needs it (bfloat16 reads), so it lives here, not with the kernels' helpers. */
export const toDtype = aten1('to', 'dtype');
