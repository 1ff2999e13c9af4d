import t from 'tap';
import { placeActor, type ThreadLoad } from '../runtime/placement.js';

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
