// CPU kernels (params.runKernel): the actor-side runner (actors/kernels.ts) talking over a real
// MessageChannel to the main-thread router (runtime/kernels.ts) and its piscina pool, exactly as
// an actor thread does; the inline fallback; defineKernel and the transfer-list rules.
import t, { type Test } from 'tap';
import { MessageChannel } from 'node:worker_threads';
import { KernelRouter } from '../runtime/kernels.js';
import { InlineKernelRunner, PortKernelRunner, collectTransfer, scanOutput, type KernelRunner } from '../actors/kernels.js';
import { KernelError, defineKernel, type KernelRef } from '../functions/api.js';

const ext = import.meta.url.endsWith('.ts') ? 'ts' : 'js';
const MODULE = new URL(`./helpers/fixtures/test-kernels.${ext}`, import.meta.url);

interface ScaleOut { values: Float64Array; sum: number; seenBytes: number; threadId: number }
const scale = defineKernel<{ values: Float64Array; by: number }, ScaleOut>(MODULE, 'scale');
const keep = defineKernel<{ values: Float64Array }, { nested: { values: Float64Array }[] }>(MODULE, 'keep');
const keptDetached = defineKernel<null, boolean | null>(MODULE, 'keptDetached');
const fail = defineKernel<{ message: string }, never>(MODULE, 'fail');
const failAsync = defineKernel<{ message: string }, never>(MODULE, 'failAsync');
const failString = defineKernel<null, never>(MODULE, 'failString');
const unclonable = defineKernel<null, unknown>(MODULE, 'unclonable');
const exitThread = defineKernel<null, never>(MODULE, 'exitThread');
const rendezvous = defineKernel<{ sab: SharedArrayBuffer; parties: number }, { met: boolean; threadId: number }>(MODULE, 'rendezvous');

/** A router with `threads` kernel threads and one connected runner (one "actor thread"). */
function connect(threads: number): { router: KernelRouter; runner: PortKernelRunner; extra(): PortKernelRunner } {
  const router = new KernelRouter({ threads });
  const pair = (): PortKernelRunner => {
    const ch = new MessageChannel();
    router.attach(ch.port1);
    return new PortKernelRunner(ch.port2);
  };
  return { router, runner: pair(), extra: pair };
}

function ramp(n: number): Float64Array {
  const a = new Float64Array(n);
  for (let i = 0; i < n; i++) a[i] = i;
  return a;
}

async function errorsBehave(t: Test, run: KernelRunner['run']): Promise<void> {
  const e1 = await run(fail, { message: 'boom 42' }).catch((e: unknown) => e);
  t.type(e1, KernelError, 'a throwing kernel rejects with a KernelError');
  t.equal((e1 as KernelError).message, 'boom 42', 'with the kernel\'s message');
  t.equal((e1 as KernelError).remoteName, 'RangeError', 'and the original error name');
  t.equal((e1 as KernelError).kernel, `${MODULE.href}#fail`);
  await t.rejects(run(failAsync, { message: 'async boom' }), { name: 'KernelError', message: 'async boom' }, 'async kernels too');
  await t.rejects(run(failString, null), { name: 'KernelError', message: 'a plain string' }, 'a thrown non-Error');

  const missing = new URL(`./helpers/fixtures/no-such-kernels.${ext}`, import.meta.url);
  const e2 = await run(defineKernel(missing, 'x'), 1).catch((e: unknown) => e);
  t.type(e2, KernelError);
  t.match((e2 as Error).message, `cannot load kernel module ${missing.href}`, 'an unknown module fails clearly');
  await t.rejects(run(defineKernel(MODULE, 'nope'), 1), { name: 'KernelError', message: `kernel module ${MODULE.href} has no exported function 'nope'` });
  await t.rejects(run(defineKernel(MODULE, 'notAFunction'), 1), { message: /has no exported function 'notAFunction' \(it is a number\)/ });
  await t.rejects(run({ module: 3, name: null } as unknown as KernelRef, 1), { name: 'TypeError' }, 'not a KernelRef');
  await t.rejects(run(scale, { values: new Float64Array(1), by: (() => 1) as unknown as number }), /could not be cloned/, 'an input that cannot cross threads');
}

t.test('round trip through the kernel pool: input and output typed arrays move', async (t) => {
  const { router, runner } = connect(1);
  t.teardown(() => router.close());
  const values = ramp(1_000_000); // 8 MB
  const buf = values.buffer;
  const out = await runner.run(scale, { values, by: 3 }, [buf]);
  t.equal(buf.byteLength, 0, 'the sender\'s buffer is detached: moved, not copied');
  t.equal(values.length, 0, 'and so is its view');
  t.equal(out.seenBytes, 8_000_000, 'the kernel got all of it');
  t.type(out.values, Float64Array);
  t.equal(out.values.length, 1_000_000);
  t.equal(out.values[999_999], 2_999_997);
  t.equal(out.sum, 3 * (999_999 * 1_000_000) / 2);
  t.not(out.threadId, 0, 'it ran on a kernel thread');
  t.equal(router.pending, 0);

  // The output goes back moved too: the kernel's own reference to it is detached afterwards.
  const v2 = ramp(10);
  const kept = await runner.run(keep, { values: v2 }, [v2.buffer]);
  t.same([...kept.nested[0]!.values], [...ramp(10)].map((x) => x * 2), 'nested output arrives');
  t.equal(await runner.run(keptDetached, null), true, 'the kernel thread no longer holds the returned buffer');

  // Without a transfer list the input is copied and stays usable.
  const copy = ramp(4);
  await runner.run(scale, { values: copy, by: 1 });
  t.equal(copy.length, 4, 'not listed: cloned');
});

t.test('kernel errors reach the caller with their message; unknown modules fail clearly', async (t) => {
  const { router, runner } = connect(1);
  t.teardown(() => router.close());
  await errorsBehave(t, runner.run.bind(runner));
  const bad = await runner.run(unclonable, null).catch((e: unknown) => e);
  t.type(bad, Error, 'an output that cannot be cloned rejects');
  t.equal((bad as KernelError).name, 'KernelError');
  t.match((bad as Error).message, /returned an output that cannot cross threads: output\.f is a function/, 'saying what is wrong');
  const after = await runner.run(scale, { values: ramp(3), by: 2 });
  t.same([...after.values], [0, 2, 4], 'the pool keeps serving');
  const died = await runner.run(exitThread, null).catch((e: unknown) => e);
  t.type(died, KernelError, 'a kernel that ends its thread rejects with a KernelError');
  t.match((died as Error).message, /exit/i, `saying so (${(died as Error).message})`);
  t.same([...(await runner.run(scale, { values: ramp(2), by: 5 })).values], [0, 5], 'and the pool replaces the thread');
});

t.test('two kernels run at once on two kernel threads, from one or two actor threads', async (t) => {
  const { router, runner, extra } = connect(2);
  t.teardown(() => router.close());
  const sab = new SharedArrayBuffer(4);
  const [a, b] = await Promise.all([runner.run(rendezvous, { sab, parties: 2 }), runner.run(rendezvous, { sab, parties: 2 })]);
  t.ok(a.met && b.met, 'both kernels were running at the same time');
  t.not(a.threadId, b.threadId, 'on different threads');
  const other = extra();
  const sab2 = new SharedArrayBuffer(4);
  const [c, d] = await Promise.all([runner.run(rendezvous, { sab: sab2, parties: 2 }), other.run(rendezvous, { sab: sab2, parties: 2 })]);
  t.ok(c.met && d.met, 'two actor threads share the pool');
  other.close();
  await t.rejects(other.run(scale, { values: ramp(1), by: 1 }), { name: 'KernelError', message: /kernel pool closed/ }, 'a closed runner refuses');
});

t.test('closing the router fails what is in flight and what comes later', async (t) => {
  const { router, runner } = connect(1);
  const sab = new SharedArrayBuffer(4);
  // Never meets its second party: it runs until the pool is destroyed.
  const stuck = runner.run(rendezvous, { sab, parties: 2 }).catch((e: unknown) => e);
  await new Promise((r) => setTimeout(r, 50));
  await router.close();
  t.match(await stuck, { name: 'KernelError', message: /did not finish: the kernel pool closed/ }, 'the running kernel is cut off');
  await t.rejects(runner.run(scale, { values: ramp(1), by: 1 }), { name: 'KernelError', message: /cannot run: the kernel pool closed/ });
  await router.close(); // idempotent
  const late = new MessageChannel();
  router.attach(late.port1); // a port attached after close is closed at once
  const r = new PortKernelRunner(late.port2);
  await t.rejects(r.run(scale, { values: ramp(1), by: 1 }), /kernel pool closed/);
});

t.test('inline fallback (no kernel pool): same moves, same errors', async (t) => {
  const inline = new InlineKernelRunner();
  const values = ramp(1000);
  const buf = values.buffer;
  const out = await inline.run(scale, { values, by: 2 }, [buf]);
  t.equal(buf.byteLength, 0, 'the caller\'s buffer is detached as with the pool');
  t.equal(out.values[999], 1998);
  const v2 = ramp(5);
  const kept = await inline.run(keep, { values: v2 }, [v2.buffer]);
  t.equal(kept.nested[0]!.values[4], 8);
  t.equal(await inline.run(keptDetached, null), true, 'output moved out of the kernel\'s hands');
  await errorsBehave(t, inline.run.bind(inline));
});

t.test('defineKernel takes URLs only', async (t) => {
  const k = defineKernel(MODULE, 'scale');
  t.same(k, { module: MODULE.href, name: 'scale' });
  t.ok(Object.isFrozen(k));
  t.same(defineKernel('file:///x/k.js', 'f'), { module: 'file:///x/k.js', name: 'f' });
  t.throws(() => defineKernel('./k.js', 'f'), { name: 'TypeError', message: /absolute URL/ });
  t.throws(() => defineKernel('/abs/k.js', 'f'), { name: 'TypeError' }, 'a bare path is not a URL');
  t.throws(() => defineKernel(MODULE, ''), { name: 'TypeError', message: /name/ });
});

t.test('collectTransfer: what an output moves', async (t) => {
  const a = new Float64Array(4);
  const b = new Uint8Array(a.buffer, 8, 4); // shares a's buffer
  const c = new ArrayBuffer(16);
  const sab = new SharedArrayBuffer(8);
  const pooled = Buffer.from('tiny'); // Node's shared pool: not transferable
  class Box { constructor(readonly inner = new Float64Array(2)) {} }
  const out = collectTransfer({ a, list: [b, c, { deep: new Map([['k', new Int32Array(2)]]) }], sab: new Int32Array(sab), pooled, box: new Box(), empty: new ArrayBuffer(0), n: 1, s: 'x' });
  t.equal(out.length, 4, 'a (once), c, the Int32Array in the Map and the class instance\'s array');
  t.ok(out.includes(a.buffer as ArrayBuffer) && out.includes(c));
  const cyclic: Record<string, unknown> = { v: new Float32Array(1) };
  cyclic.self = cyclic;
  t.equal(collectTransfer(cyclic).length, 1, 'cycles end');
  t.same(collectTransfer(null), []);
  t.same(collectTransfer(new Float64Array(0)), [], 'zero-length buffers are left alone');
  t.equal(scanOutput({ a: [1, { p: Promise.resolve() }] }).problem, 'output.a[1].p is a Promise');
  t.equal(scanOutput(new Map([['k', Symbol('s')]])).problem, 'output.get(k) is a symbol');
  t.equal(scanOutput({ d: new Date(0), e: new Error('x'), s: new Set([1]) }).problem, null, 'dates, errors, sets clone fine');
});
