// The catalog surface: one catalog with one schema holding the runtime's table-buffering
// functions. Control plane only (a few calls per ATTACH), so apache-arrow does the encoding.
import type { RequestContext } from '../connection.js';
import { requestBlob } from '../wire/request.js';
import { unaryResult, unaryVoid } from '../wire/envelope.js';
import { concat, EOS_BYTES } from '../wire/encode.js';
import { decodeRow, encodeRow } from '../protocol/encode.js';
import { schemaOf } from '../protocol/cache.js';
import { describeFunction } from '../describe.js';
import type { RuntimeCore } from '../core.js';

const EMPTY_LIST_METHODS = new Set([
  'catalog_schema_contents_macros', 'catalog_schema_contents_tables', 'catalog_schema_contents_views',
  'catalog_schema_contents_indexes', 'catalog_table_get', 'catalog_view_get', 'catalog_macro_get',
  'catalog_index_get', 'catalog_copy_from_formats',
]);

export function isCatalogMethod(method: string): boolean {
  return method.startsWith('catalog_');
}

/** Self-describing attach token: any process (stdio relays, finalize workers) can read it. */
export function attachToken(core: RuntimeCore): Uint8Array {
  return new TextEncoder().encode(`vgi-actors:${core.catalog.name}`);
}

/** Row 0 of the outer parameter columns, by name (both versions' layouts). */
function outerParams(ctx: RequestContext): Record<string, unknown> {
  return decodeRow(concat([...ctx.messages.map((m) => m.bytes), EOS_BYTES])).row;
}

async function items(ctx: RequestContext, rows: Uint8Array[]): Promise<void> {
  const schema = schemaOf(ctx.protocol.tables.items);
  await ctx.conn.write(unaryResult([encodeRow(schema, { items: rows })]));
}

async function one(ctx: RequestContext, spec: keyof RequestContext['protocol']['tables'], row: Record<string, unknown>): Promise<void> {
  const s = ctx.protocol.tables[spec];
  if (!s) throw new Error(`protocol ${ctx.protocol.version} has no ${String(spec)}`);
  await ctx.conn.write(unaryResult([encodeRow(schemaOf(s as never), row)]));
}

export async function handleCatalog(ctx: RequestContext): Promise<void> {
  const { core, protocol } = ctx;
  const token = attachToken(core);
  switch (ctx.method) {
    case 'catalog_attach': {
      const req = decodeRow(requestBlob(ctx.batch)).row;
      if (req.name !== core.catalog.name) {
        throw new Error(`vgi-actors: this worker serves catalog '${core.catalog.name}', not '${String(req.name)}'`);
      }
      return one(ctx, 'catalogAttachResult', protocol.catalogAttachResultRow({ attachOpaqueData: token, defaultSchema: core.catalog.schema }));
    }
    case 'catalog_catalogs': {
      const row = { name: core.catalog.name, implementation_version: null, data_version_spec: null, attach_option_specs: [], releases: [], source_url: null };
      return items(ctx, [encodeRow(schemaOf(protocol.tables.catalogInfo), row)]);
    }
    case 'catalog_version':
      return one(ctx, 'catalogVersionResult', { version: 1n });
    case 'catalog_transaction_begin':
      return one(ctx, 'transactionBeginResult', { transaction_opaque_data: null });
    case 'catalog_transaction_commit':
    case 'catalog_transaction_rollback':
    case 'catalog_detach':
      return ctx.conn.write(unaryVoid());
    case 'catalog_schemas': {
      const row = protocol.schemaInfoRow({
        name: core.catalog.schema,
        attachOpaqueData: token,
        // 0 is a hard "empty" promise: DuckDB then never asks for those kinds.
        estimatedObjectCount: { table: 0, view: 0, index: 0, scalar_function: 0, aggregate_function: 0, macro: 0, table_function: Math.max(1, core.functions.size) },
      });
      return items(ctx, [encodeRow(schemaOf(protocol.tables.schemaInfo), row)]);
    }
    case 'catalog_schema_contents_functions': {
      const p = outerParams(ctx);
      const path = protocol.schemaPathOf(p);
      const inSchema = path === null || (path.length === 1 && path[0] === core.catalog.schema);
      // Only the requested kind: any other function type in a TABLE_FUNCTION answer makes DuckDB throw.
      if (p.type !== 'TABLE_FUNCTION' || !inSchema) return items(ctx, []);
      const schema = schemaOf(protocol.tables.functionInfo);
      const rows = [...core.functions.values()].map((fn) => encodeRow(schema, protocol.functionInfoRow(describeFunction(fn, core.catalog.schema))));
      return items(ctx, rows);
    }
    default:
      if (EMPTY_LIST_METHODS.has(ctx.method)) return items(ctx, []);
      return ctx.conn.writeError(`vgi-actors: unknown method '${ctx.method}'`, [], 'method_not_implemented');
  }
}
