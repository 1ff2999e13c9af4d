// When to give memory back: a small timer policy, apart from what reclaiming does (runtime.ts).
/**
 * V8 shrinks a heap's young generation (up to 32 MiB on the main thread) only at a GC after ~5 s
 * of low allocation (measured on Node 20: a GC right after load keeps it, one 5.5 s later frees
 * it), so the idle reclaim collects a second time this long after the first.
 */
const SHRINK_GAP_MS = 6_000;

/**
 * Calls `reclaim(1)` once the runtime has been idle (`idle()` true, `activity()` unchanged) for
 * `afterMs`, and `reclaim(2)` SHRINK_GAP_MS later if it is still idle; activity starts over.
 */
export function idleReclaimer(afterMs: number, idle: () => boolean, activity: () => number, reclaim: (pass: 1 | 2) => Promise<void>): NodeJS.Timeout {
  let seen = activity();
  let quietSince = Date.now();
  let passes = 0;
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    const now = Date.now();
    const a = activity();
    if (a !== seen || !idle()) {
      seen = a;
      quietSince = now;
      passes = 0;
      return;
    }
    const due = passes === 0 ? afterMs : passes === 1 ? afterMs + SHRINK_GAP_MS : Infinity;
    if (now - quietSince < due) return;
    const pass = ++passes as 1 | 2;
    running = true;
    reclaim(pass).catch(() => undefined).finally(() => { running = false; });
  }, Math.max(20, Math.min(afterMs / 4, 1000)));
  timer.unref();
  return timer;
}
