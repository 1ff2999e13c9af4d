/**
 * A tiny declarative DSL for the Arrow schemas of the vgi protocol.
 *
 * A schema is declared once, as plain data (an array of {@link FieldSpec}),
 * and turned into apache-arrow `Field`/`Schema` objects by {@link toArrowSchema}.
 *
 * The defaults follow what the extension compares against (Arrow C++ /
 * pyarrow defaults): fields are NOT nullable unless said so; a list's child
 * field is `item` and nullable; a map is `entries` (non-null struct) of `key`
 * (non-null) and `value` (nullable) with keysSorted=false; a dictionary is
 * int16 indices -> utf8 values, not ordered.
 */
import {
  Binary,
  Bool,
  DataType,
  Dictionary,
  Field,
  Float64,
  Int16,
  Int32,
  Int64,
  LargeBinary,
  List,
  Map_,
  Null,
  Schema,
  Struct,
  TimeUnit,
  Timestamp,
  Type,
  Uint64,
  Utf8,
} from 'apache-arrow';

// ---------------------------------------------------------------------------
// Plain-data type and field specs
// ---------------------------------------------------------------------------

export type TimestampUnit = 's' | 'ms' | 'us' | 'ns';

export type TypeSpec =
  | { readonly kind: 'utf8' }
  | { readonly kind: 'binary' }
  | { readonly kind: 'largeBinary' }
  | { readonly kind: 'bool' }
  | { readonly kind: 'int16' }
  | { readonly kind: 'int32' }
  | { readonly kind: 'int64' }
  | { readonly kind: 'uint64' }
  | { readonly kind: 'float64' }
  | { readonly kind: 'null' }
  | { readonly kind: 'timestamp'; readonly unit: TimestampUnit; readonly timezone: string | null }
  | { readonly kind: 'list'; readonly item: FieldSpec }
  | { readonly kind: 'struct'; readonly fields: readonly FieldSpec[] }
  | { readonly kind: 'map'; readonly key: TypeSpec; readonly value: TypeSpec }
  /** dictionary<int16, utf8>, unordered. `values` (optional) lists the enum members. */
  | { readonly kind: 'dict'; readonly values?: readonly string[] };

export interface FieldSpec {
  readonly name: string;
  readonly type: TypeSpec;
  readonly nullable: boolean;
  readonly metadata?: Readonly<Record<string, string>>;
}

/** A declared schema: an ordered list of fields. */
export type SchemaSpec = readonly FieldSpec[];

export interface FieldOptions {
  readonly nullable?: boolean;
  readonly metadata?: Readonly<Record<string, string>>;
}

/** Shorthand for `{ nullable: true }`. */
export const NULLABLE: FieldOptions = Object.freeze({ nullable: true });

// Type constants (usable as map key/value types or in `f.item`).
export const t = Object.freeze({
  utf8: { kind: 'utf8' } as TypeSpec,
  binary: { kind: 'binary' } as TypeSpec,
  largeBinary: { kind: 'largeBinary' } as TypeSpec,
  bool: { kind: 'bool' } as TypeSpec,
  int16: { kind: 'int16' } as TypeSpec,
  int32: { kind: 'int32' } as TypeSpec,
  int64: { kind: 'int64' } as TypeSpec,
  uint64: { kind: 'uint64' } as TypeSpec,
  float64: { kind: 'float64' } as TypeSpec,
  null: { kind: 'null' } as TypeSpec,
  timestampUsUtc: { kind: 'timestamp', unit: 'us', timezone: 'UTC' } as TypeSpec,
  list: (item: FieldSpec): TypeSpec => ({ kind: 'list', item }),
  struct: (fields: readonly FieldSpec[]): TypeSpec => ({ kind: 'struct', fields }),
  map: (key: TypeSpec, value: TypeSpec): TypeSpec => ({ kind: 'map', key, value }),
  dict: (values?: readonly string[]): TypeSpec => (values ? { kind: 'dict', values } : { kind: 'dict' }),
});

function field(name: string, type: TypeSpec, opts?: FieldOptions): FieldSpec {
  const spec: { name: string; type: TypeSpec; nullable: boolean; metadata?: Readonly<Record<string, string>> } = {
    name,
    type,
    nullable: opts?.nullable ?? false,
  };
  if (opts?.metadata) spec.metadata = opts.metadata;
  return spec;
}

/** A list child field: named `item`, nullable (the Arrow default). */
function item(type: TypeSpec): FieldSpec {
  return { name: 'item', type, nullable: true };
}

/** Field constructors. Every field is non-nullable unless `{ nullable: true }` is passed. */
export const f = Object.freeze({
  field,
  utf8: (name: string, opts?: FieldOptions) => field(name, t.utf8, opts),
  binary: (name: string, opts?: FieldOptions) => field(name, t.binary, opts),
  largeBinary: (name: string, opts?: FieldOptions) => field(name, t.largeBinary, opts),
  bool: (name: string, opts?: FieldOptions) => field(name, t.bool, opts),
  int16: (name: string, opts?: FieldOptions) => field(name, t.int16, opts),
  int32: (name: string, opts?: FieldOptions) => field(name, t.int32, opts),
  int64: (name: string, opts?: FieldOptions) => field(name, t.int64, opts),
  uint64: (name: string, opts?: FieldOptions) => field(name, t.uint64, opts),
  float64: (name: string, opts?: FieldOptions) => field(name, t.float64, opts),
  null: (name: string, opts?: FieldOptions) => field(name, t.null, { nullable: true, ...opts }),
  timestampUsUtc: (name: string, opts?: FieldOptions) => field(name, t.timestampUsUtc, opts),
  /** `list<item>`; pass one of the `*Item()` helpers (or `f.item(type)`) as the child. */
  list: (name: string, child: FieldSpec, opts?: FieldOptions) => field(name, t.list(child), opts),
  struct: (name: string, fields: readonly FieldSpec[], opts?: FieldOptions) => field(name, t.struct(fields), opts),
  /** `map<key, value>` with Arrow's default entries/key/value naming and nullability. */
  map: (name: string, key: TypeSpec, value: TypeSpec, opts?: FieldOptions) => field(name, t.map(key, value), opts),
  /** `dictionary<int16, utf8>` (an enum); `values` documents/validates the members. */
  dict: (name: string, opts?: FieldOptions & { readonly values?: readonly string[] }) =>
    field(name, t.dict(opts?.values), opts),

  item,
  utf8Item: () => item(t.utf8),
  binaryItem: () => item(t.binary),
  largeBinaryItem: () => item(t.largeBinary),
  int32Item: () => item(t.int32),
  int64Item: () => item(t.int64),
  structItem: (fields: readonly FieldSpec[]) => item(t.struct(fields)),
  listItem: (child: FieldSpec) => item(t.list(child)),
});

// ---------------------------------------------------------------------------
// Spec -> apache-arrow
// ---------------------------------------------------------------------------

const TIME_UNITS: Record<TimestampUnit, TimeUnit> = {
  s: TimeUnit.SECOND,
  ms: TimeUnit.MILLISECOND,
  us: TimeUnit.MICROSECOND,
  ns: TimeUnit.NANOSECOND,
};

interface DictIdCounter {
  next: number;
}

function toArrowTypeWith(spec: TypeSpec, ids: DictIdCounter): DataType {
  switch (spec.kind) {
    case 'utf8':
      return new Utf8();
    case 'binary':
      return new Binary();
    case 'largeBinary':
      return new LargeBinary();
    case 'bool':
      return new Bool();
    case 'int16':
      return new Int16();
    case 'int32':
      return new Int32();
    case 'int64':
      return new Int64();
    case 'uint64':
      return new Uint64();
    case 'float64':
      return new Float64();
    case 'null':
      return new Null();
    case 'timestamp':
      return new Timestamp(TIME_UNITS[spec.unit], spec.timezone);
    case 'list':
      return new List(toArrowFieldWith(spec.item, ids));
    case 'struct':
      return new Struct(spec.fields.map((c) => toArrowFieldWith(c, ids)));
    case 'map': {
      const entries = new Field(
        'entries',
        new Struct([
          new Field('key', toArrowTypeWith(spec.key, ids), false),
          new Field('value', toArrowTypeWith(spec.value, ids), true),
        ]),
        false,
      );
      return new Map_(entries as Field<Struct<{ key: DataType; value: DataType }>>, false);
    }
    case 'dict': {
      const type = new Dictionary(new Utf8(), new Int16(), ids.next++, false);
      if (spec.values) ENUM_VALUES.set(type, spec.values);
      return type;
    }
  }
}

/** Declared enum members of dictionary types built by this module (see {@link enumValuesOf}). */
const ENUM_VALUES = new WeakMap<DataType, readonly string[]>();

/**
 * The enum members declared (via `f.dict(name, { values })`) for a dictionary
 * type built by {@link toArrowSchema}; undefined for any other type.
 */
export function enumValuesOf(type: DataType): readonly string[] | undefined {
  return ENUM_VALUES.get(type);
}

function toArrowFieldWith(spec: FieldSpec, ids: DictIdCounter): Field {
  const metadata = spec.metadata ? new Map(Object.entries(spec.metadata)) : null;
  return new Field(spec.name, toArrowTypeWith(spec.type, ids), spec.nullable, metadata);
}

/** Build an apache-arrow DataType. Dictionary ids start at 0 for each call. */
export function toArrowType(spec: TypeSpec): DataType {
  return toArrowTypeWith(spec, { next: 0 });
}

/** Build an apache-arrow Field. Dictionary ids start at 0 for each call. */
export function toArrowField(spec: FieldSpec): Field {
  return toArrowFieldWith(spec, { next: 0 });
}

/**
 * Build an apache-arrow Schema from a declared schema. Dictionary ids are
 * assigned 0, 1, 2… in depth-first field order (as Arrow C++ does).
 */
export function toArrowSchema(spec: SchemaSpec, metadata?: Readonly<Record<string, string>>): Schema {
  const ids: DictIdCounter = { next: 0 };
  const fields = spec.map((s) => toArrowFieldWith(s, ids));
  return new Schema(fields, metadata ? new Map(Object.entries(metadata)) : undefined);
}

/** The enum members declared on a top-level dictionary field, if any. */
export function dictValuesOf(spec: SchemaSpec, name: string): readonly string[] | undefined {
  const s = spec.find((x) => x.name === name);
  return s && s.type.kind === 'dict' ? s.type.values : undefined;
}

// ---------------------------------------------------------------------------
// Rendering and comparison (Arrow C++ `Schema::Equals(check_metadata=false)`)
// ---------------------------------------------------------------------------

/** Render a type roughly the way Arrow C++ prints it (`list<item: string>` …). */
export function typeToString(type: DataType): string {
  switch (type.typeId) {
    case Type.Utf8:
      return 'string';
    case Type.LargeUtf8:
      return 'large_string';
    case Type.Binary:
      return 'binary';
    case Type.LargeBinary:
      return 'large_binary';
    case Type.Bool:
      return 'bool';
    case Type.Null:
      return 'null';
    case Type.Float: {
      const precision = (type as unknown as { precision: number }).precision; // 0 half, 1 single, 2 double
      return ['halffloat', 'float', 'double'][precision] ?? 'float';
    }
    case Type.Timestamp: {
      const ts = type as Timestamp;
      const unit = ['s', 'ms', 'us', 'ns'][ts.unit] ?? '?';
      return ts.timezone ? `timestamp[${unit}, tz=${ts.timezone}]` : `timestamp[${unit}]`;
    }
    case Type.Dictionary: {
      const d = type as Dictionary;
      return `dictionary<values=${typeToString(d.dictionary)}, indices=${typeToString(d.indices)}, ordered=${d.isOrdered ? 1 : 0}>`;
    }
    case Type.List: {
      const c = (type as List).children[0]!;
      return `list<${fieldToString(c)}>`;
    }
    case Type.Struct:
      return `struct<${(type as Struct).children.map(fieldToString).join(', ')}>`;
    case Type.Map: {
      const m = type as Map_;
      const entries = m.children[0]!;
      const [k, v] = (entries.type as Struct).children;
      const base = `map<${typeToString(k!.type)}, ${typeToString(v!.type)}${m.keysSorted ? ', keys_sorted' : ''}>`;
      // Only mention the (rarely) non-default child naming/nullability.
      const defaults =
        entries.name === 'entries' && !entries.nullable && k!.name === 'key' && !k!.nullable && v!.name === 'value' && v!.nullable;
      return defaults ? base : `${base}[entries=${fieldToString(entries)}]`;
    }
    default: {
      const s = String(type).toLowerCase();
      return s;
    }
  }
}

export function fieldToString(field: Field): string {
  return `${field.name}: ${typeToString(field.type)}${field.nullable ? '' : ' not null'}`;
}

/** One line per field, `name: type [not null]`. */
export function schemaToString(schema: Schema): string {
  return schema.fields.map(fieldToString).join('\n');
}

function typesEqual(a: DataType, b: DataType): boolean {
  if (a.typeId !== b.typeId) return false;
  switch (a.typeId) {
    case Type.Dictionary: {
      const x = a as Dictionary;
      const y = b as Dictionary;
      return x.isOrdered === y.isOrdered && typesEqual(x.indices, y.indices) && typesEqual(x.dictionary, y.dictionary);
    }
    case Type.Timestamp: {
      const x = a as Timestamp;
      const y = b as Timestamp;
      return x.unit === y.unit && (x.timezone ?? null) === (y.timezone ?? null);
    }
    case Type.Map:
      if ((a as Map_).keysSorted !== (b as Map_).keysSorted) return false;
      break;
    default:
      break;
  }
  // Generic scalar parameters (bit width, signedness, precision…).
  const pa = a as unknown as Record<string, unknown>;
  const pb = b as unknown as Record<string, unknown>;
  for (const key of ['bitWidth', 'isSigned', 'precision', 'scale', 'unit', 'byteWidth', 'listSize']) {
    if (pa[key] !== pb[key]) return false;
  }
  const ca = a.children ?? [];
  const cb = b.children ?? [];
  if (ca.length !== cb.length) return false;
  for (let i = 0; i < ca.length; i++) {
    if (!fieldsEqual(ca[i]!, cb[i]!)) return false;
  }
  return true;
}

function fieldsEqual(a: Field, b: Field): boolean {
  return a.name === b.name && a.nullable === b.nullable && typesEqual(a.type, b.type);
}

/**
 * Differences between an expected and an actual schema (names, types,
 * nullability, order, nested child names — metadata and dictionary ids
 * ignored). An empty array means "equal".
 */
export function diffSchemas(expected: Schema, actual: Schema): string[] {
  const out: string[] = [];
  const n = Math.max(expected.fields.length, actual.fields.length);
  if (expected.fields.length !== actual.fields.length) {
    out.push(`field count: expected ${expected.fields.length}, actual ${actual.fields.length}`);
  }
  for (let i = 0; i < n; i++) {
    const e = expected.fields[i];
    const a = actual.fields[i];
    if (e && a && fieldsEqual(e, a)) continue;
    out.push(`[${i}] expected: ${e ? fieldToString(e) : '(none)'} / actual: ${a ? fieldToString(a) : '(none)'}`);
  }
  return out;
}

export function schemasEqual(expected: Schema, actual: Schema): boolean {
  return diffSchemas(expected, actual).length === 0;
}
