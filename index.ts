// Public entry point: the embeddable runtime and the function API.
export { createRuntime } from './runtime/runtime.js';
export type { Runtime, RuntimeOptions, RuntimeSnapshot } from './runtime/runtime.js';
export type { UnixListener, UnixListenOptions } from './runtime/transports/unix.js';
export * from './functions/index.js';
