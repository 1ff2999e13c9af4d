// Decoding constants from Arrow cells without losing precision (actors/pushdown/literal.ts).
import t from 'tap';
import { Data, DataType, Dictionary, Float16, Int32, IntervalDayTime, LargeBinary, Utf8, makeData, vectorFromArray } from 'apache-arrow';
import { readCell, readListCell, wordsToBigInt } from '../actors/pushdown/literal.js';
import { UnsupportedFilterError } from '../actors/pushdown/index.js';

const col = (v: unknown[], type: DataType): Data => vectorFromArray(v as never[], type as never).data[0] as Data;

t.test('readCell decodes exotic payload types', async (t) => {
  t.equal(readCell(col([1.5, -2, null], new Float16()), 0), 1.5, 'float16');
  t.equal(readCell(col([1.5, -2, null], new Float16()), 1), -2);
  t.equal(readCell(col([1.5, -2, null], new Float16()), 2), null);
  const dict = makeData({ type: new Dictionary(new Utf8(), new Int32()), data: Int32Array.of(1, 0), dictionary: vectorFromArray(['a', 'b'], new Utf8()) });
  t.equal(readCell(dict as Data, 0), 'b', 'dictionary cells decode through the dictionary');
  const badUtf8 = makeData({ type: new Utf8(), data: Uint8Array.of(0xff, 0xfe), valueOffsets: Int32Array.of(0, 2) });
  t.same(readCell(badUtf8 as Data, 0), Uint8Array.of(0xff, 0xfe), 'invalid UTF-8 stays raw bytes');
  t.same(readCell(col([Uint8Array.of(9)], new LargeBinary()), 0), Uint8Array.of(9), 'large binary');
  t.throws(() => readCell(col([Int32Array.of(1, 2)], new IntervalDayTime()), 0), UnsupportedFilterError, 'intervals are never pushed');
  t.throws(() => readListCell(col([1], new Int32()), 0), UnsupportedFilterError, 'IN payload must be a list');
});

t.test('wordsToBigInt reads two\'s-complement little-endian words', async (t) => {
  t.equal(wordsToBigInt(Uint32Array.of(0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff), 0, 4), -1n);
  t.equal(wordsToBigInt(Uint32Array.of(0, 0, 0, 0x80000000), 0, 4), -(2n ** 127n));
  t.equal(wordsToBigInt(Uint32Array.of(9, 9, 1, 2, 3, 4), 2, 4), 1n + (2n << 32n) + (3n << 64n) + (4n << 96n));
});
