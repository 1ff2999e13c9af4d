// Loads a module of table-buffering functions. Both the main thread (for catalog metadata) and
// every actor thread (to run the code) import the same module by specifier: closures cannot cross
// threads, module specifiers can.
import { pathToFileURL } from 'node:url';
import { isAbsolute, resolve } from 'node:path';
import type { TableBufferingFunction } from './api.js';

export class FunctionDefinitionError extends Error {
  override readonly name = 'FunctionDefinitionError';
}

/** `./x.js`, `/abs/x.js` and `file:` URLs all resolve against the working directory. */
export function moduleUrl(specifier: string | URL): string {
  if (specifier instanceof URL) return specifier.href;
  if (/^[a-z]+:/i.test(specifier)) return specifier;
  return pathToFileURL(isAbsolute(specifier) ? specifier : resolve(specifier)).href;
}

export function validateFunctions(list: readonly TableBufferingFunction[]): Map<string, TableBufferingFunction> {
  const byName = new Map<string, TableBufferingFunction>();
  for (const fn of list) {
    if (!fn || typeof fn.name !== 'string' || fn.name === '') throw new FunctionDefinitionError('every function needs a name');
    if (byName.has(fn.name)) throw new FunctionDefinitionError(`duplicate function name '${fn.name}'`);
    for (const m of ['onBind', 'process', 'combine', 'finalizeProducer'] as const) {
      if (typeof fn[m] !== 'function') throw new FunctionDefinitionError(`function '${fn.name}' lacks ${m}()`);
    }
    // DuckDB serializes the sink for sink_order_dependent; batch indexes need a parallel sink.
    if (fn.metadata.sinkOrderDependent && fn.metadata.requiresInputBatchIndex) {
      throw new FunctionDefinitionError(`function '${fn.name}': sinkOrderDependent and requiresInputBatchIndex are exclusive`);
    }
    if (fn.argumentSpecs.filter((a) => a.kind === 'table').length !== 1) {
      throw new FunctionDefinitionError(`function '${fn.name}' needs exactly one TABLE argument`);
    }
    byName.set(fn.name, fn);
  }
  return byName;
}

/** Imports a module whose default export (or `functions` export) is a list of functions. */
export async function loadFunctions(specifier: string | URL): Promise<Map<string, TableBufferingFunction>> {
  const mod = (await import(moduleUrl(specifier))) as { default?: unknown; functions?: unknown };
  const list = mod.functions ?? mod.default;
  if (!Array.isArray(list)) throw new FunctionDefinitionError(`module ${String(specifier)} must export an array of functions (default or 'functions')`);
  return validateFunctions(list as TableBufferingFunction[]);
}
