/** Protocol schemas (declared per version, as data), encoders and the version registry. */
export * from './spec.js';
export * from './encode.js';
export * from './enums.js';
export type * from './types.js';
export {
  SUPPORTED_PROTOCOL_VERSIONS,
  PROTOCOL_NAME_KEY,
  PROTOCOL_VERSION_KEY,
  ProtocolVersion,
  UnsupportedProtocolVersionError,
  majorMinorOf,
  protocolFor,
  protocolForMetadata,
  resolveProtocol,
  supportedProtocols,
  type GlobalInitDescription,
  type ProtocolSchemas,
} from './versions.js';
export { FILTER_PROFILE_DUCKDB_STANDARD_V1 } from './v2.js';
