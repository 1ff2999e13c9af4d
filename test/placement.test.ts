import t from 'tap';
import { pickStateless, placeActor, type ThreadLoad } from '../runtime/placement.js';

const load = (index: number, actors: number, inflight = 0, alive = true): ThreadLoad => ({ index, actors, inflight, alive });

t.test('placement picks the thread with fewest actors', async (t) => {
  t.equal(placeActor([load(0, 3), load(1, 1), load(2, 2)]), 1);
});
t.test('ties break on in-flight calls, then on index', async (t) => {
  t.equal(placeActor([load(0, 1, 5), load(1, 1, 2)]), 1);
  t.equal(placeActor([load(0, 1, 2), load(1, 1, 2)]), 0);
});
t.test('dead threads are never chosen', async (t) => {
  t.equal(placeActor([load(0, 0, 0, false), load(1, 9)]), 1);
  t.throws(() => placeActor([load(0, 0, 0, false)]), /no live actor thread/);
});
t.test('spreads a burst of executions evenly', async (t) => {
  const counts = [0, 0, 0];
  for (let i = 0; i < 30; i++) counts[placeActor(counts.map((c, j) => load(j, c)))]!++;
  t.same(counts, [10, 10, 10]);
});

t.test('stateless calls avoid a busy thread, then one with more actors', async (t) => {
  // Thread 0 is stuck in a call (one in flight) for its one actor: binds go elsewhere.
  t.equal(pickStateless([load(0, 1, 1), load(1, 0)], 0), 1);
  t.equal(pickStateless([load(0, 1, 0), load(1, 0, 0)], 0), 1, 'equal calls: fewer actors wins');
  t.equal(pickStateless([load(0, 0, 0, false), load(1, 3, 4)], 0), 1, 'dead threads are never chosen');
  t.throws(() => pickStateless([load(0, 0, 0, false)], 0), /no live actor thread/);
});
t.test('stateless calls rotate over equally idle threads', async (t) => {
  const counts = [0, 0, 0];
  for (let i = 0; i < 30; i++) counts[pickStateless([load(0, 0), load(1, 0), load(2, 0)], i % 3)]!++;
  t.same(counts, [10, 10, 10]);
});
