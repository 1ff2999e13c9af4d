import t from 'tap';
import { tableToIPC, tableFromArrays } from 'apache-arrow';
t.test('arrow loads under tap', async (t) => {
  const bytes = tableToIPC(tableFromArrays({ a: Int32Array.of(1, 2) }), 'stream');
  t.ok(bytes.byteLength > 0);
});
