// A full garbage collection of the calling thread's heap (main thread or worker), when V8 lets us
// have one: `--expose-gc` is set at first use and the `gc` function taken from a fresh context.
// Used when a large execution ends (actors/thread.ts) and by the idle reclaim (runtime/runtime.ts).
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let gc: (() => void) | null | undefined;

/** Runs a full GC of this thread's isolate; false if V8 refused to expose one. */
export function collectGarbage(): boolean {
  if (gc === undefined) {
    try {
      setFlagsFromString('--expose-gc');
      gc = runInNewContext('gc') as () => void;
    } catch {
      gc = null;
    }
  }
  gc?.();
  return gc !== null;
}
