// Regression (found by the soak, scripts/soak.mjs; fixed in c2c90bd): while a dead actor thread's
// replacement started, queries failed instead of waiting for it.
//
// docs/design.md §1: a thread that dies "is replaced … the next query passes". With one actor thread
// (or once every thread has died, e.g. two crash_on_process queries in a row on a 2-core machine):
//   SELECT * FROM example.crash_on_process((SELECT * FROM range(10)));
//     → actor thread 0 died (exit code 137); its executions were lost        (expected)
//   SELECT count(*) FROM example.buffer_input((SELECT * FROM range(10)));
//     → was: Invalid Input Error: VGI Worker Exception: no actor thread is running (expected: 10)
// The replacement Worker needs ~0.5–1 s to import actors/host.js; until it posted 'ready',
// ActorPool.any()/place() found no live thread and failed the call at once (the soak saw 16 queries
// in a row fail this way on the in-process runtime).
import t from 'tap';
import { attachWorker } from './helpers/worker.js';

const OK = `SELECT count(*) FROM example.buffer_input((SELECT * FROM range(10)))`;
const CRASH = `SELECT * FROM example.crash_on_process((SELECT * FROM range(10)))`;

t.test('v2 over launch, --threads 1: the query right after a thread death passes', async (t) => {
  const w = await attachWorker('v2', 'launch', { threads: 1 });
  t.teardown(() => w.close());
  const { duck } = w;
  t.equal(await duck.queryValue(OK), '10', 'serves before');
  for (let cycle = 1; cycle <= 2; cycle++) {
    t.match(await duck.expectError(CRASH), /actor thread 0 died/, `cycle ${cycle}: crash_on_process fails its own query`);
    let got: string;
    try {
      got = String(await duck.queryValue(OK));
    } catch (e) {
      got = (e as Error).message.split('\n')[0]!;
    }
    t.equal(got, '10', `cycle ${cycle}: the next query passes`);
    // Control: once the replacement has started, it serves.
    await new Promise((r) => setTimeout(r, 1000));
    t.equal(await duck.queryValue(OK), '10', `cycle ${cycle}: it serves again after a pause`);
  }
});
