// encodeRow / decodeRow / schema (de)serialization round trips.
import t from 'tap';
import { Int64, Utf8, Bool, Float64, Int32, Schema, tableFromIPC, Decimal, Field, Struct } from 'apache-arrow';
import {
  EOS_BYTES,
  ProtocolDecodeError,
  ProtocolEncodeError,
  argumentsSchema,
  decodeRow,
  decodeSchema,
  encodeArgumentsSchema,
  encodeRow,
  encodeSchemaMessage,
  encodeSchemaStream,
  ensureStream,
} from '../runtime/protocol/encode.js';
import { NULLABLE, diffSchemas, f, t as ty, toArrowSchema, schemaToString } from '../runtime/protocol/spec.js';

const endsWithEos = (b: Uint8Array): boolean =>
  b.byteLength >= 8 && EOS_BYTES.every((x, i) => b[b.byteLength - 8 + i] === x);

const nested = toArrowSchema([
  f.utf8('s'),
  f.utf8('s_null', NULLABLE),
  f.binary('b'),
  f.largeBinary('lb', NULLABLE),
  f.bool('flag'),
  f.int16('i16'),
  f.int32('i32', NULLABLE),
  f.int64('i64'),
  f.uint64('u64'),
  f.float64('d'),
  f.timestampUsUtc('ts', NULLABLE),
  f.null('nothing'),
  f.list('strs', f.utf8Item()),
  f.list('bins', f.binaryItem(), NULLABLE),
  f.list('lbins', f.largeBinaryItem(), NULLABLE),
  f.list('ll', f.listItem(f.int32Item())),
  f.list('structs', f.structItem([f.utf8('sql'), f.utf8('expected', NULLABLE), f.uint64('version')])),
  f.map('tags', ty.utf8, ty.utf8),
  f.map('counts', ty.utf8, ty.int64, NULLABLE),
  f.struct('st', [f.utf8('format'), f.binary('blob'), f.list('path', f.utf8Item(), NULLABLE)], NULLABLE),
  f.dict('kind', { values: ['A', 'B', 'C'] }),
  f.dict('free', NULLABLE),
  f.dict('free2'),
]);

t.test('encodeRow -> decodeRow round trip of nested types', async (t) => {
  const row = {
    s: 'héllo',
    s_null: null,
    b: Uint8Array.of(0, 1, 255),
    lb: Uint8Array.of(7),
    flag: true,
    i16: -3,
    i32: 2147483647,
    i64: 9007199254740993n,
    u64: 18446744073709551615n,
    d: 1.5,
    ts: new Date('2026-06-15T19:37:56.123Z'),
    nothing: null,
    strs: ['a', null, ''],
    bins: [Uint8Array.of(1), new Uint8Array(0)],
    lbins: null,
    ll: [[1, 2], [], null, [3]],
    structs: [
      { sql: 'select 1', expected: null, version: 2 },
      { sql: 'x', expected: 'y', version: 3n },
    ],
    tags: new Map([['k1', 'v1'], ['k2', '']]),
    counts: [['table', 0], ['table_function', 5n]],
    st: { format: 'csv', blob: Uint8Array.of(9), path: ['main', 'sub'] },
    kind: 'B',
    free: 'anything',
    free2: 'other',
  };
  const bytes = encodeRow(nested, row);
  t.ok(endsWithEos(bytes), 'stream ends with EOS');
  const { schema, row: back } = decodeRow(bytes);
  t.same(diffSchemas(nested, schema), [], 'schema survives IPC exactly');
  t.equal(back['s'], 'héllo');
  t.equal(back['s_null'], null);
  t.same(back['b'], Uint8Array.of(0, 1, 255));
  t.ok(back['b'] instanceof Uint8Array);
  t.same(back['lb'], Uint8Array.of(7));
  t.equal(back['flag'], true);
  t.equal(back['i16'], -3);
  t.equal(back['i32'], 2147483647);
  t.equal(back['i64'], 9007199254740993n);
  t.equal(back['u64'], 18446744073709551615n);
  t.equal(back['d'], 1.5);
  t.equal(back['ts'], Date.parse('2026-06-15T19:37:56.123Z'));
  t.equal(back['nothing'], null);
  t.same(back['strs'], ['a', null, '']);
  t.same(back['bins'], [Uint8Array.of(1), new Uint8Array(0)]);
  t.equal(back['lbins'], null);
  t.same(back['ll'], [[1, 2], [], null, [3]]);
  t.same(back['structs'], [
    { sql: 'select 1', expected: null, version: 2n },
    { sql: 'x', expected: 'y', version: 3n },
  ]);
  t.same(back['tags'], new Map([['k1', 'v1'], ['k2', '']]));
  t.same(back['counts'], new Map([['table', 0n], ['table_function', 5n]]));
  t.same(back['st'], { format: 'csv', blob: Uint8Array.of(9), path: ['main', 'sub'] });
  t.equal(back['kind'], 'B');
  t.equal(back['free'], 'anything');
  t.equal(back['free2'], 'other');
});

t.test('nulls everywhere nullable, empty containers, maps from objects', async (t) => {
  const row = {
    s: '',
    b: new Uint8Array(0),
    flag: false,
    i16: 0,
    i64: 0,
    u64: 0,
    d: 0,
    nothing: undefined,
    strs: [],
    ll: [],
    structs: [],
    tags: {},
    counts: { a: 1 },
    st: null,
    kind: 'A',
    free: null,
    free2: 'z',
  };
  const { row: back } = decodeRow(encodeRow(nested, row));
  t.equal(back['s'], '');
  t.same(back['b'], new Uint8Array(0));
  t.equal(back['flag'], false);
  t.equal(back['i64'], 0n);
  t.same(back['strs'], []);
  t.same(back['ll'], []);
  t.same(back['structs'], []);
  t.same(back['tags'], new Map());
  t.same(back['counts'], new Map([['a', 1n]]));
  t.equal(back['st'], null);
  t.equal(back['free'], null);
  for (const k of ['s_null', 'lb', 'i32', 'ts', 'bins', 'lbins']) t.equal(back[k], null, `${k} omitted -> null`);
});

t.test('dictionary columns carry the declared enum as dictionary', async (t) => {
  const bytes = encodeRow(nested, {
    s: '', b: new Uint8Array(0), flag: false, i16: 0, i64: 0, u64: 0, d: 0, strs: [], ll: [], structs: [],
    tags: {}, kind: 'C', free2: 'q',
  });
  const table = tableFromIPC(bytes);
  const kind = table.getChild('kind')!;
  const dict = kind.data[0]!.dictionary!;
  t.same(dict.toArray(), ['A', 'B', 'C']);
  t.equal(kind.get(0), 'C');
  t.equal(table.getChild('free2')!.data[0]!.dictionary!.length, 1, 'undeclared enum: dictionary of the one value');
});

t.test('encodeRow refuses bad rows', async (t) => {
  const s = toArrowSchema([f.utf8('a'), f.int64('n', NULLABLE), f.dict('e', { values: ['X'] })]);
  t.throws(() => encodeRow(s, { a: 'x', e: 'X', extra: 1 }), ProtocolEncodeError, 'unknown field');
  t.throws(() => encodeRow(s, { n: 1, e: 'X' }), /missing value for non-nullable field "a"/);
  t.throws(() => encodeRow(s, { a: 1, e: 'X' }), /a: expected string/);
  t.throws(() => encodeRow(s, { a: 'x', n: 1.5, e: 'X' }), /n: expected integer/);
  t.throws(() => encodeRow(s, { a: 'x', e: 'Y' }), /"Y" is not one of X/);
  const m = toArrowSchema([f.map('m', ty.utf8, ty.utf8)]);
  t.throws(() => encodeRow(m, { m: [['k']] }), /\[key, value\] pairs/);
  t.throws(() => encodeRow(m, { m: [[null, 'v']] }), /map keys must not be null/);
  // explicit null in a non-nullable column is allowed (the Python reference does it)
  t.doesNotThrow(() => encodeRow(s, { a: null, e: 'X' }));
});

t.test('zero-field one-row batches round-trip', async (t) => {
  const bytes = encodeRow(new Schema([]), {});
  const table = tableFromIPC(bytes);
  t.equal(table.batches.length, 1);
  t.equal(table.batches[0]!.numRows, 1);
  t.same(decodeRow(bytes).row, {});
});

t.test('BindRequest-style arguments: args struct<> holding null', async (t) => {
  const s = new Schema([new Field('args', new Struct([]), true)]);
  t.same(decodeRow(encodeRow(s, { args: null })).row, { args: null });
  const s2 = new Schema([new Field('args', new Struct([new Field('positional_0', new Int64(), true), new Field('named_logging', new Bool(), true)]), true)]);
  t.same(decodeRow(encodeRow(s2, { args: { positional_0: 10, named_logging: true } })).row, {
    args: { positional_0: 10n, named_logging: true },
  });
});

t.test('batch metadata option', async (t) => {
  const s = toArrowSchema([f.binary('request')]);
  const bytes = encodeRow(s, { request: Uint8Array.of(1) }, { metadata: { 'vgi_rpc.method': 'bind', 'vgi_rpc.protocol_version': '2.0.0' } });
  const batch = tableFromIPC(bytes).batches[0]!;
  t.equal(batch.metadata.get('vgi_rpc.method'), 'bind');
  t.equal(batch.metadata.get('vgi_rpc.protocol_version'), '2.0.0');
});

t.test('serialized schemas', async (t) => {
  const s = new Schema([
    new Field('a', new Int32(), true),
    new Field('name', new Utf8(), false),
    new Field('price', new Decimal(2, 10, 128), true),
    new Field('x', new Float64(), true, new Map([['k', 'v']])),
  ]);
  const msg = encodeSchemaMessage(s);
  t.notOk(endsWithEos(msg), 'bare message: no EOS');
  t.equal(msg.byteLength % 8, 0, '8-byte aligned');
  t.equal(new DataView(msg.buffer, msg.byteOffset).getUint32(0, true), 0xffffffff, 'continuation marker');
  t.equal(new DataView(msg.buffer, msg.byteOffset).getInt32(4, true) + 8, msg.byteLength, 'exactly one message');
  const back = decodeSchema(msg);
  t.same(diffSchemas(s, back), []);
  t.equal(back.fields[3]!.metadata.get('k'), 'v', 'field metadata kept');

  const stream = encodeSchemaStream(s);
  t.ok(endsWithEos(stream));
  t.equal(stream.byteLength, msg.byteLength + 8);
  t.same(diffSchemas(s, decodeSchema(stream)), [], 'stream form also accepted');
  t.equal(ensureStream(stream), stream, 'stream left untouched');
  t.ok(endsWithEos(ensureStream(msg)), 'EOS appended to a bare message');

  // a bare message holding a dictionary/map/list schema
  const rich = toArrowSchema([f.dict('e', NULLABLE), f.map('m', ty.utf8, ty.int64), f.list('l', f.utf8Item())]);
  t.equal(schemaToString(decodeSchema(encodeSchemaMessage(rich))), schemaToString(rich));

  const empty = encodeSchemaMessage(new Schema([]));
  t.equal(decodeSchema(empty).fields.length, 0);
  t.throws(() => decodeSchema(new Uint8Array(0)), ProtocolDecodeError);
  t.throws(() => decodeSchema(Uint8Array.of(1, 2, 3)), ProtocolDecodeError);
});

t.test('a bare schema message sliced out of a larger buffer', async (t) => {
  const s = new Schema([new Field('v', new Int64(), true)]);
  const msg = encodeSchemaMessage(s);
  const big = new Uint8Array(msg.byteLength + 16);
  big.set(msg, 5);
  const view = big.subarray(5, 5 + msg.byteLength);
  t.same(diffSchemas(s, decodeSchema(view)), []);
});

t.test('decodeRow errors', async (t) => {
  t.throws(() => decodeRow(encodeSchemaStream(new Schema([new Field('a', new Utf8(), true)]))), /holds no row/);
  t.throws(() => decodeRow(Uint8Array.of(9, 9, 9, 9, 9, 9, 9, 9, 9)), ProtocolDecodeError);
});

t.test('encodeArgumentsSchema', async (t) => {
  const bytes = encodeArgumentsSchema([
    { name: 'rows', kind: 'positional', type: new Int64() },
    { name: 'data', kind: 'table' },
    { name: 'logging', kind: 'named', type: new Bool() },
  ]);
  const s = decodeSchema(bytes);
  t.same(s.fields.map((x) => x.name), ['rows', 'data', 'logging']);
  t.same(s.fields.map((x) => String(x.type)), ['Int64', 'Null', 'Bool']);
  t.same([...s.fields[0]!.metadata], []);
  t.same([...s.fields[1]!.metadata], [['vgi_type', 'table']]);
  t.same([...s.fields[2]!.metadata], [['vgi_arg', 'named']]);
  t.throws(
    () => argumentsSchema([{ name: 'n', kind: 'named', type: new Int64() }, { name: 'data', kind: 'table' }]),
    /positional arguments must come before named ones/,
  );
  t.throws(() => argumentsSchema([{ name: 'x', kind: 'positional' }]), /a type is required/);
  t.throws(() => argumentsSchema([{ name: 'x', kind: 'table' }, { name: 'x', kind: 'table' }]), /duplicate/);
  const extra = argumentsSchema([{ name: 'v', kind: 'positional', type: new Utf8(), metadata: { vgi_type: 'any' } }]);
  t.equal(extra.fields[0]!.metadata.get('vgi_type'), 'any');
});
