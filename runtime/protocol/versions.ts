/**
 * Registry of supported protocol versions, keyed by MAJOR.MINOR.
 *
 * To add a version: write `vN.ts` exporting a ProtocolDefinition and add it
 * to DEFINITIONS below. Handlers only ever talk to {@link ProtocolVersion}.
 */
import type { Schema } from 'apache-arrow';
import { encodeRow } from './encode.js';
import { diffSchemas, type SchemaSpec } from './spec.js';
import { schemaOf } from './cache.js';
import type {
  BindDescription,
  CatalogAttachDescription,
  FunctionDescription,
  MethodName,
  ProtocolDefinition,
  ProtocolTables,
  Row,
  SchemaDescription,
} from './types.js';
import { v1 } from './v1.js';
import { v2 } from './v2.js';

const DEFINITIONS: readonly ProtocolDefinition[] = [v1, v2];

/** Full version strings this runtime speaks, oldest first. */
export const SUPPORTED_PROTOCOL_VERSIONS: readonly string[] = DEFINITIONS.map((d) => d.version);

/** Request batch metadata keys carrying the version. */
export const PROTOCOL_VERSION_KEY = 'vgi_rpc.protocol_version';
export const PROTOCOL_NAME_KEY = 'vgi_rpc.protocol';

export class UnsupportedProtocolVersionError extends Error {
  override name = 'UnsupportedProtocolVersionError';
  readonly requested: string | null;
  readonly supported: readonly string[];
  constructor(requested: string | null) {
    super(
      `protocol_version mismatch: ${requested === null ? 'no protocol version given' : `unsupported protocol version ${JSON.stringify(requested)}`}; ` +
        `this worker supports ${SUPPORTED_PROTOCOL_VERSIONS.join(', ')}`,
    );
    this.requested = requested;
    this.supported = SUPPORTED_PROTOCOL_VERSIONS;
  }
}

/** `"1.0.3"` / `"1.0"` -> `"1.0"`; null when not a MAJOR.MINOR[.PATCH] string. */
export function majorMinorOf(version: string): string | null {
  const m = /^\s*(\d+)\.(\d+)(?:\.\d+)?(?:[-+][0-9A-Za-z.-]*)?\s*$/.exec(version);
  return m ? `${Number(m[1])}.${Number(m[2])}` : null;
}

type SchemaTableKey = Exclude<keyof ProtocolTables, 'methodParams' | 'copyFromFormatInfo' | 'clientCapabilities'>;

/** Arrow schemas of one version, built from its tables. */
export type ProtocolSchemas = { readonly [K in SchemaTableKey]: Schema } & {
  readonly copyFromFormatInfo: Schema | null;
  readonly clientCapabilities: Schema | null;
  readonly methodParams: Readonly<Partial<Record<MethodName, Schema>>>;
};

function buildSchemas(tables: ProtocolTables): ProtocolSchemas {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(tables)) {
    if (key === 'methodParams') continue;
    out[key] = value === null ? null : schemaOf(value as SchemaSpec);
  }
  const params: Partial<Record<MethodName, Schema>> = {};
  for (const [method, spec] of Object.entries(tables.methodParams) as [MethodName, SchemaSpec][]) {
    params[method] = schemaOf(spec);
  }
  out['methodParams'] = params;
  return out as ProtocolSchemas;
}

export interface GlobalInitDescription {
  readonly executionId: Uint8Array;
  readonly opaqueData?: Uint8Array | null;
  readonly maxWorkers?: number | bigint;
}

/** One protocol version: its schemas (data + Arrow) and the version-specific builders. */
export class ProtocolVersion implements ProtocolDefinition {
  /** e.g. `2.0.0`. */
  readonly version: string;
  /** e.g. `2.0`. */
  readonly majorMinor: string;
  /** `vgi_rpc.protocol` value (2.0: `vgi.v2`), null when the version sends none. */
  readonly protocolName: string | null;
  /** The declared schemas as plain data. */
  readonly tables: ProtocolTables;
  /** The same schemas as apache-arrow Schema objects. */
  readonly schemas: ProtocolSchemas;
  readonly #def: ProtocolDefinition;

  constructor(def: ProtocolDefinition) {
    const mm = majorMinorOf(def.version);
    if (!mm) throw new Error(`bad protocol version ${def.version}`);
    this.#def = def;
    this.version = def.version;
    this.majorMinor = mm;
    this.protocolName = def.protocolName;
    this.tables = def.tables;
    this.schemas = buildSchemas(def.tables);
  }

  // ---- version-specific rows ----
  functionInfoRow(fn: FunctionDescription): Row {
    return this.#def.functionInfoRow(fn);
  }
  catalogAttachResultRow(d: CatalogAttachDescription): Row {
    return this.#def.catalogAttachResultRow(d);
  }
  schemaInfoRow(s: SchemaDescription): Row {
    return this.#def.schemaInfoRow(s);
  }
  bindResponseRow(b: BindDescription): Row {
    return this.#def.bindResponseRow(b);
  }
  /** Schema path named by decoded catalog parameters or a decoded function request (null if none). */
  schemaPathOf(params: Row): string[] | null {
    return this.#def.schemaPathOf(params);
  }

  // ---- encoded inner results (IPC bytes to put in `result` / `items`) ----
  encodeFunctionInfo(fn: FunctionDescription): Uint8Array {
    return encodeRow(this.schemas.functionInfo, this.functionInfoRow(fn));
  }
  encodeCatalogAttachResult(d: CatalogAttachDescription): Uint8Array {
    return encodeRow(this.schemas.catalogAttachResult, this.catalogAttachResultRow(d));
  }
  encodeSchemaInfo(s: SchemaDescription): Uint8Array {
    return encodeRow(this.schemas.schemaInfo, this.schemaInfoRow(s));
  }
  encodeBindResponse(b: BindDescription): Uint8Array {
    return encodeRow(this.schemas.bindResponse, this.bindResponseRow(b));
  }
  encodeItems(items: readonly Uint8Array[]): Uint8Array {
    return encodeRow(this.schemas.items, { items: [...items] });
  }
  encodeCatalogVersion(version: number | bigint): Uint8Array {
    return encodeRow(this.schemas.catalogVersionResult, { version: BigInt(version) });
  }
  encodeTransactionBegin(transactionOpaqueData: Uint8Array | null): Uint8Array {
    return encodeRow(this.schemas.transactionBeginResult, { transaction_opaque_data: transactionOpaqueData });
  }
  encodeProcessResult(stateId: Uint8Array): Uint8Array {
    return encodeRow(this.schemas.processResult, { state_id: stateId });
  }
  encodeCombineResult(finalizeStateIds: readonly Uint8Array[]): Uint8Array {
    return encodeRow(this.schemas.combineResult, { finalize_state_ids: [...finalizeStateIds] });
  }
  encodeDestructorResult(): Uint8Array {
    return encodeRow(this.schemas.destructorResult, {});
  }
  /** Row for the init header batch (GlobalInitResponse). */
  globalInitResponseRow(d: GlobalInitDescription): Row {
    return {
      execution_id: d.executionId,
      opaque_data: d.opaqueData ?? null,
      max_workers: BigInt(d.maxWorkers ?? 1),
    };
  }

  // ---- consistency checks on requests ----
  /** Outer parameter schema of `method`, or undefined when this version has no such method. */
  paramsSchema(method: string): Schema | undefined {
    return (this.schemas.methodParams as Partial<Record<string, Schema>>)[method];
  }
  /**
   * Differences between a received schema and the declared one (empty = equal).
   * `which` names a table (e.g. `bindRequest`) or `params:<method>`.
   */
  checkSchema(which: SchemaTableKey | 'clientCapabilities' | `params:${MethodName}`, actual: Schema): string[] {
    let expected: Schema | null | undefined;
    if (which.startsWith('params:')) expected = this.paramsSchema(which.slice('params:'.length));
    else expected = this.schemas[which as SchemaTableKey | 'clientCapabilities'];
    if (!expected) return [`protocol ${this.version} declares no schema ${which}`];
    return diffSchemas(expected, actual);
  }
}

const REGISTRY: ReadonlyMap<string, ProtocolVersion> = new Map(
  DEFINITIONS.map((d) => {
    const p = new ProtocolVersion(d);
    return [p.majorMinor, p] as const;
  }),
);

/** All supported versions, oldest first. */
export function supportedProtocols(): ProtocolVersion[] {
  return [...REGISTRY.values()];
}

/**
 * The protocol for a version string (`1.0.0`, `1.0`, `2.0.3` …), matched on
 * MAJOR.MINOR. Throws UnsupportedProtocolVersionError otherwise.
 */
export function protocolFor(version: string): ProtocolVersion {
  const known = BY_STRING.get(version);
  if (known) return known;
  const mm = majorMinorOf(version);
  const p = mm ? REGISTRY.get(mm) : undefined;
  if (!p) throw new UnsupportedProtocolVersionError(version);
  if (BY_STRING.size < 16) BY_STRING.set(version, p); // every request names its version: parse each string once
  return p;
}

const BY_STRING = new Map<string, ProtocolVersion>();

/**
 * The protocol of a request from its batch metadata: `vgi_rpc.protocol_version`,
 * else (no version key) the version whose `vgi_rpc.protocol` name matches.
 */
export function protocolForMetadata(metadata: ReadonlyMap<string, string> | null | undefined): ProtocolVersion {
  return resolveProtocol(metadata?.get(PROTOCOL_VERSION_KEY), metadata?.get(PROTOCOL_NAME_KEY));
}

/**
 * The protocol of a request from the values of `vgi_rpc.protocol_version` and
 * `vgi_rpc.protocol` (either may be absent): the version wins; without it the
 * version whose protocol name matches. Throws UnsupportedProtocolVersionError.
 */
export function resolveProtocol(version: string | null | undefined, name?: string | null): ProtocolVersion {
  if (version !== undefined && version !== null) return protocolFor(version);
  if (name !== undefined && name !== null) {
    const p = supportedProtocols().find((x) => x.protocolName === name);
    if (p) return p;
    throw new UnsupportedProtocolVersionError(`${PROTOCOL_NAME_KEY}=${name}`);
  }
  throw new UnsupportedProtocolVersionError(null);
}
