// The function-author API (no runtime code: functions/ never imports runtime/).
export * from './api.js';
export { loadFunctions, validateFunctions, FunctionDefinitionError } from './load.js';
