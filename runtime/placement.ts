// Actor placement as a pure policy: (threads) → index. Sticky by construction: the runtime calls
// it once per execution, at sink init, and routes every later call of that execution to the
// answer.

export interface ThreadLoad {
  readonly index: number;
  readonly alive: boolean;
  /** Live actors (executions) on the thread. */
  readonly actors: number;
  /** Requests sent to the thread and not yet answered: a busy thread is a worse home. */
  readonly inflight: number;
}

/** Least-loaded live thread: fewest actors, then fewest in-flight calls, then lowest index. */
export function placeActor(threads: readonly ThreadLoad[]): number {
  let best: ThreadLoad | null = null;
  for (const t of threads) {
    if (!t.alive) continue;
    if (
      best === null ||
      t.actors < best.actors ||
      (t.actors === best.actors && t.inflight < best.inflight)
    ) best = t;
  }
  if (best === null) throw new Error('no live actor thread to place an execution on');
  return best.index;
}

/**
 * Stateless calls (bind): the live thread with the fewest calls in flight, then the fewest actors;
 * ties rotate from `start` so binds spread. A thread stuck in user code (until its call deadline)
 * has a call in flight and an actor, so other executions' binds avoid it.
 */
export function pickStateless(threads: readonly ThreadLoad[], start: number): number {
  let best: ThreadLoad | null = null;
  for (let i = 0; i < threads.length; i++) {
    const t = threads[(start + i) % threads.length]!;
    if (!t.alive) continue;
    if (best === null || t.inflight < best.inflight || (t.inflight === best.inflight && t.actors < best.actors)) best = t;
  }
  if (best === null) throw new Error('no live actor thread to run a call on');
  return best.index;
}
