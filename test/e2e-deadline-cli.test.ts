// The CLI's crash-isolation settings reach the actor host over both transports (under stdio the
// relay must pass them on to the host it starts): `--call-deadline SEC` and `--thread-heap-mb MB`.
import t from 'tap';
import { attachWorker, TRANSPORTS } from './helpers/worker.js';

const OK = `SELECT count(*) FROM example.buffer_input((SELECT * FROM range(5000)))`;
const bad = (how: string, phase: string): string =>
  `SELECT count(*) FROM example.misbehave((SELECT * FROM range(5000)), how := '${how}', phase := '${phase}')`;

for (const transport of TRANSPORTS) {
  t.test(`v2 over ${transport}: --call-deadline 2`, async (t) => {
    const w = await attachWorker('v2', transport, { args: ['--call-deadline', '2'] });
    t.teardown(() => w.close());
    t.match(await w.duck.expectError(bad('spin', 'combine')), /the combine call ran past the call deadline of 2 s/, 'a spinning combine is stopped at the deadline');
    t.equal(await w.duck.queryValue(OK), '5000', 'the next query passes');
  });
  // No deadline here: close to its heap limit a thread spends seconds in GC before it dies.
  t.test(`v2 over ${transport}: --thread-heap-mb 96 --call-deadline 0`, async (t) => {
    const w = await attachWorker('v2', transport, { args: ['--thread-heap-mb', '96', '--call-deadline', '0'] });
    t.teardown(() => w.close());
    t.match(await w.duck.expectError(bad('heap', 'process')), /memory limit|out of memory/i, 'a heap-hungry process call hits the thread heap limit');
    t.equal(await w.duck.queryValue(OK), '5000', 'the next query passes');
  });
}
