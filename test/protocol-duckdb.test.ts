// The declared schemas against real DuckDB + vgi (1.0.0: haybarn 1.5.3 / 15fe529,
// 2.0.0: DuckDB 1.5.5 / d91b7c4). A throw-away "probe" worker replays answers
// pre-encoded here with the protocol module; the extension compares every item
// by exact Arrow schema equality and fails with "out-of-date Apache Arrow
// schema" on any difference — so a query that gets past that check proves the
// layout. A negative control (the other version's FunctionInfo) shows the
// probe really detects a mismatch.
import t from 'tap';
import { existsSync, mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Field, Int32, Int64, Schema } from 'apache-arrow';
import { openDuck, type Duck, type Flavour } from './helpers/duckdb.js';
import { stdioLocation, nodeCommand, attachSql } from './helpers/locations.js';
import { protocolFor, type ProtocolVersion } from '../runtime/protocol/versions.js';
import { f, NULLABLE, t as ty, toArrowSchema } from '../runtime/protocol/spec.js';
import { decodeRow, encodeArgumentsSchema, encodeRow, encodeSchemaMessage } from '../runtime/protocol/encode.js';
import type { MethodName } from '../runtime/protocol/types.js';

const OUT_OF_DATE = /out-of-date Apache Arrow schema/i;
const ARROW = pathToFileURL(createRequire(import.meta.url).resolve('apache-arrow').replace(/\.js$/, '.mjs')).href;

const WORKER = `
import { appendFileSync, readFileSync } from 'node:fs';
const arrow = await import(process.argv[2]);
const responses = JSON.parse(readFileSync(process.argv[3], 'utf8'));
function errorStream(msg) {
  const batch = new arrow.RecordBatch(
    new arrow.Schema([]),
    arrow.makeData({ type: new arrow.Struct([]), length: 0, nullCount: 0, children: [] }),
    new Map([['vgi_rpc.log_level', 'EXCEPTION'], ['vgi_rpc.log_message', msg]]),
  );
  return arrow.RecordBatchStreamWriter.writeAll([batch]).toUint8Array(true);
}
for await (const reader of arrow.RecordBatchReader.readAll(process.stdin)) {
  let method = null;
  let type = null;
  let req = null;
  for await (const batch of reader) {
    method ??= batch.metadata.get('vgi_rpc.method') ?? null;
    req ??= Buffer.from(arrow.RecordBatchStreamWriter.writeAll([batch]).toUint8Array(true)).toString('base64');
    const i = batch.schema.fields.findIndex((f) => f.name === 'type');
    if (i >= 0 && batch.numRows > 0) type = String(batch.getChildAt(i).get(0));
  }
  if (method === null) continue;
  const key = type ? method + ':' + type : method;
  const hit = responses[key] ?? responses[method];
  appendFileSync(process.argv[3] + '.calls', key + (hit ? '' : ' (unhandled)') + '\\n');
  appendFileSync(process.argv[3] + '.reqs', JSON.stringify({ method, req }) + '\\n');
  process.stdout.write(hit ? Buffer.from(hit, 'base64') : errorStream('probe: unhandled ' + key));
}
`;

const dir = mkdtempSync(join(tmpdir(), 'vgi-proto-probe-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const workerPath = join(dir, 'probe-worker.mjs');
writeFileSync(workerPath, WORKER);

const b64 = (x: Uint8Array): string => Buffer.from(x).toString('base64');
const emptySchema = encodeSchemaMessage(new Schema([]));
const ATTACH_TOKEN = new TextEncoder().encode('probe-token');

interface AnswerOptions {
  functionInfoFrom?: ProtocolVersion;
  /** Rename the list child of FunctionInfo.categories (probes child-name equality). */
  categoriesChildName?: string;
  copyFormats?: boolean;
  catalogName?: string;
}

function answers(p: ProtocolVersion, opts: AnswerOptions): Record<string, string> {
  const wrap = (inner: Uint8Array): string => b64(encodeRow(p.schemas.unaryResult, { result: inner }));
  const items = (xs: Uint8Array[]): string => wrap(p.encodeItems(xs));
  const v2 = p.version.startsWith('2.');
  const schemaKey = v2 ? { schema_path: ['main'] } : { schema_name: 'main' };
  const fnFrom = opts.functionInfoFrom ?? p;
  const fnDesc = {
    name: 'probe_fn',
    schemaName: 'main',
    description: 'probe',
    categories: ['probe'],
    argumentsSchemaBytes: encodeArgumentsSchema([
      { name: 'data', kind: 'table' },
      { name: 'logging', kind: 'named', type: new Int64() },
    ]),
    outputSchemaBytes: emptySchema,
    projectionPushdown: true,
    filterPushdown: true,
  };
  const childName = opts.categoriesChildName;
  const fn = childName
    ? encodeRow(
        toArrowSchema(
          fnFrom.tables.functionInfo.map((x) =>
            x.name === 'categories' ? f.list('categories', f.field(childName, ty.utf8, NULLABLE)) : x,
          ),
        ),
        fnFrom.functionInfoRow(fnDesc),
      )
    : fnFrom.encodeFunctionInfo(fnDesc);
  const table = encodeRow(p.schemas.tableInfo, {
    comment: null,
    tags: {},
    name: 't1',
    ...schemaKey,
    columns: encodeSchemaMessage(new Schema([new Field('a', new Int64(), true)])),
    not_null_constraints: [],
    unique_constraints: [],
    check_constraints: [],
    primary_key_constraints: [],
    foreign_key_constraints: [],
    ...(v2
      ? { write_result_modes: {}, required_filters: [] }
      : {
          supports_insert: false,
          supports_update: false,
          supports_delete: false,
          supports_returning: false,
          scan_function: new Uint8Array(0),
          insert_function: new Uint8Array(0),
          update_function: new Uint8Array(0),
          delete_function: new Uint8Array(0),
          cardinality_estimate: 0,
          cardinality_max: 0,
          column_statistics: new Uint8Array(0),
          bind_result: new Uint8Array(0),
          required_field_filter_paths: [],
        }),
    supports_column_statistics: false,
  });
  const view = encodeRow(p.schemas.viewInfo, {
    tags: {},
    name: 'v1',
    ...schemaKey,
    definition: 'SELECT 1 AS x',
    column_comments: {},
  });
  const macro = encodeRow(p.schemas.macroInfo, {
    tags: {},
    name: 'm1',
    ...schemaKey,
    macro_type: 'TABLE',
    parameters: [],
    parameter_default_values: v2 ? null : encodeRow(new Schema([]), {}),
    definition: 'SELECT 1 AS x',
  });
  const index = encodeRow(p.schemas.indexInfo, {
    tags: {},
    name: 'i1',
    ...schemaKey,
    table_name: 't1',
    index_type: 'ART',
    constraint_type: 'NONE',
    expressions: ['a'],
    options: {},
  });
  const catalog = encodeRow(p.schemas.catalogInfo, {
    name: opts.catalogName ?? 'probe',
    attach_option_specs: [],
    releases: [{ version: '1.0', released_at: new Date('2026-01-01T00:00:00Z'), summary: 'first', notes_url: null }],
  });
  const out: Record<string, string> = {
    catalog_attach: wrap(p.encodeCatalogAttachResult({ attachOpaqueData: ATTACH_TOKEN })),
    catalog_catalogs: items([catalog]),
    catalog_schemas: items([
      p.encodeSchemaInfo({
        name: 'main',
        attachOpaqueData: ATTACH_TOKEN,
        estimatedObjectCount: {
          table: 1, view: 1, index: 1, macro: 1, table_function: 1, scalar_function: 0, aggregate_function: 0,
        },
      }),
    ]),
    'catalog_schema_contents_functions:TABLE_FUNCTION': items([fn]),
    catalog_schema_contents_functions: items([]),
    'catalog_schema_contents_macros:TABLE_MACRO': items([macro]),
    catalog_schema_contents_macros: items([]),
    catalog_schema_contents_tables: items([table]),
    catalog_schema_contents_views: items([view]),
    catalog_schema_contents_indexes: items([index]),
    catalog_table_get: items([]),
    catalog_view_get: items([view]),
    catalog_copy_from_formats: items([]),
    bind: wrap(
      p.encodeBindResponse({ outputSchemaBytes: encodeSchemaMessage(new Schema([new Field('a', new Int32(), true)])) }),
    ),
  };
  if (opts.copyFormats && p.schemas.copyFromFormatInfo) {
    out['catalog_copy_from_formats'] = items([
      encodeRow(p.schemas.copyFromFormatInfo, {
        tags: {},
        format_name: 'probefmt',
        handler: 'probe_fn',
        options: emptySchema,
        direction: 'from',
        description: 'probe format',
        ordered: false,
      }),
    ]);
  }
  return out;
}

interface Outcome {
  sql: string;
  ok: boolean;
  rows: unknown[][];
  error: string;
}

async function attempt(duck: Duck, sql: string): Promise<Outcome> {
  try {
    const r = await duck.query(sql);
    return { sql, ok: true, rows: r.rows, error: '' };
  } catch (e) {
    return { sql, ok: false, rows: [], error: (e as Error).message };
  }
}

function location(name: string, resp: Record<string, string>): string {
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(resp));
  return stdioLocation(nodeCommand(workerPath, [ARROW, file]));
}

const FLAVOUR_PROTOCOL: Record<Flavour, string> = { v1: '1.0.0', v2: '2.0.0' };

for (const flavour of ['v1', 'v2'] as const) {
  const p = protocolFor(FLAVOUR_PROTOCOL[flavour]);
  const other = protocolFor(flavour === 'v1' ? '2.0.0' : '1.0.0');

  t.test(`${flavour}: protocol ${p.version} schemas accepted by DuckDB`, async (t) => {
    const duck: Duck = await openDuck(flavour, { queryTimeoutMs: 60_000 });
    t.teardown(() => duck.close());
    const outcomes: Outcome[] = [];
    const run = async (sql: string): Promise<Outcome> => {
      const o = await attempt(duck, sql);
      outcomes.push(o);
      t.comment(`${o.ok ? 'ok ' : 'ERR'} ${sql}${o.ok ? ` -> ${JSON.stringify(o.rows).slice(0, 200)}` : `\n    ${o.error.split('\n')[0]}`}`);
      return o;
    };

    // Main catalog: attach, schemas, functions, macros, tables, views, indexes, bind.
    const loc = location(`${flavour}-main`, answers(p, {}));
    const attach = await run(attachSql('probe', loc, {}, 'probe'));
    t.ok(attach.ok, 'ATTACH (CatalogAttachResult) accepted');
    const schemas = await run(`SELECT schema_name FROM duckdb_schemas() WHERE database_name = 'probe' ORDER BY 1`);
    t.ok(schemas.ok && JSON.stringify(schemas.rows).includes('main'), 'SchemaInfo accepted');
    const fns = await run(
      `SELECT function_name, function_type FROM duckdb_functions() WHERE database_name = 'probe' ORDER BY 1`,
    );
    t.ok(fns.ok && JSON.stringify(fns.rows).includes('probe_fn'), 'FunctionInfo accepted');
    const bind = await run(`DESCRIBE SELECT * FROM probe.main.probe_fn((SELECT 1 AS a))`);
    t.ok(bind.ok && JSON.stringify(bind.rows).includes('"a"'), 'BindResponse accepted');
    const tables = await run(`SELECT table_name FROM duckdb_tables() WHERE database_name = 'probe'`);
    t.ok(tables.ok && JSON.stringify(tables.rows).includes('t1'), 'TableInfo accepted');
    const views = await run(`SELECT view_name FROM duckdb_views() WHERE database_name = 'probe' AND NOT internal`);
    t.ok(views.ok && JSON.stringify(views.rows).includes('v1'), 'ViewInfo accepted');
    // duckdb_indexes() never asks the worker (IndexInfo stays unverified).
    await run(`SELECT index_name FROM duckdb_indexes() WHERE database_name = 'probe'`);
    t.ok((await run(`SELECT * FROM probe.main.v1`)).ok, 'view usable');
    t.ok((await run(`SELECT * FROM probe.main.m1()`)).ok, 'MacroInfo accepted');

    // Bare ATTACH form: catalog_catalogs (CatalogInfo) names the catalog.
    const bare = location(`${flavour}-bare`, answers(p, { catalogName: 'probecat' }));
    t.ok((await run(`ATTACH '${bare.replace(/'/g, "''")}' (TYPE vgi)`)).ok, 'CatalogInfo accepted');

    // 2.0: a non-empty catalog_copy_from_formats answer (CopyFromFormatInfo).
    if (p.schemas.copyFromFormatInfo) {
      const cf = location(`${flavour}-copy`, answers(p, { copyFormats: true }));
      t.ok((await run(attachSql('probe_copy', cf, {}, 'probe_copy'))).ok, 'CopyFromFormatInfo accepted');
    }

    for (const name of ['main', 'bare', 'copy']) {
      const file = join(dir, `${flavour}-${name}.json.calls`);
      if (!existsSync(file)) continue;
      const calls = [...new Set(readFileSync(file, 'utf8').split('\n').filter(Boolean))];
      t.comment(`${name} worker calls: ${calls.join(', ')}`);
    }

    // The requests DuckDB sent, against the declared request layouts.
    const seen = new Set<string>();
    for (const name of ['main', 'bare', 'copy']) {
      const file = join(dir, `${flavour}-${name}.json.reqs`);
      if (!existsSync(file)) continue;
      for (const rec of readFileSync(file, 'utf8').split('\n').filter(Boolean)) {
        const { method, req } = JSON.parse(rec) as { method: string; req: string };
        if (seen.has(method)) continue;
        seen.add(method);
        const outer = decodeRow(new Uint8Array(Buffer.from(req, 'base64')));
        t.same(p.checkSchema(`params:${method as MethodName}`, outer.schema), [], `${method}: outer parameters`);
        const inner = outer.row['request'];
        if (method === 'catalog_attach' && inner instanceof Uint8Array) {
          const a = decodeRow(inner);
          t.same(p.checkSchema('catalogAttachRequest', a.schema), [], 'CatalogAttachRequest layout');
          const caps = a.row['client_capabilities'];
          if (caps instanceof Uint8Array) {
            const c = decodeRow(caps);
            t.same(p.checkSchema('clientCapabilities', c.schema), [], 'ClientCapabilities layout');
            t.comment(`client capabilities: ${JSON.stringify(c.row)}`);
          }
        }
        if (method === 'bind' && inner instanceof Uint8Array) {
          t.same(p.checkSchema('bindRequest', decodeRow(inner).schema), [], 'BindRequest layout');
        }
      }
    }
    t.ok(seen.has('bind') && seen.has('catalog_attach'), 'bind and catalog_attach requests were checked');
    for (const o of outcomes) {
      t.notMatch(o.error, OUT_OF_DATE, `no schema mismatch: ${o.sql}`);
    }

    // Negative control: the other version's FunctionInfo must be rejected.
    const bad = location(`${flavour}-bad`, answers(p, { functionInfoFrom: other }));
    const badAttach = await attempt(duck, attachSql('probe_bad', bad, {}, 'probe_bad'));
    t.ok(badAttach.ok, 'negative control attaches');
    const badFns = await attempt(duck, `SELECT function_name FROM duckdb_functions() WHERE database_name = 'probe_bad'`);
    t.match(badFns.error, OUT_OF_DATE, 'a wrong FunctionInfo layout is detected');

    await attempt(duck, 'DETACH probe_bad');

    // Are list child field names part of the comparison (`item` vs `element`)?
    const renamed = location(`${flavour}-renamed`, answers(p, { categoriesChildName: 'element' }));
    t.ok((await attempt(duck, attachSql('probe_renamed', renamed, {}, 'probe_renamed'))).ok);
    const renamedFns = await attempt(duck, `SELECT function_name FROM duckdb_functions() WHERE database_name = 'probe_renamed'`);
    t.comment(`list child named 'element': ${renamedFns.ok ? 'accepted' : renamedFns.error.split('\n')[0]}`);
    // Informational only: the runtime always uses `item`; this records what Arrow C++ compares.
    const probeFn = decodeRow(Buffer.from(JSON.parse(readFileSync(join(dir, `${flavour}-renamed.json`), 'utf8'))['catalog_schema_contents_functions:TABLE_FUNCTION'], 'base64'));
    const itemsBlob = (probeFn.row['result'] as Uint8Array);
    const fnBlob = (decodeRow(itemsBlob).row['items'] as Uint8Array[])[0]!;
    t.equal(decodeRow(fnBlob).schema.fields.find((x) => x.name === 'categories')!.type.children[0]!.name, 'element', 'probe really renamed the child');
  });
}
