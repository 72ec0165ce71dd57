export { startEmulator, type Emulator, type EmulatorOptions, READY_PATH } from './emulator/server';
export { ApiRouter, buildProxyEvent, toHttpResponse, STAGE, MAX_REQUEST_BYTES } from './emulator/api-gateway';
export { INVOKE_PATH } from './emulator/invoke-api';
export { LocalFunction, type Invocation, type InvocationReport } from './runtime/local-function';
export { applyLocalDefaults, LOCAL_DEFAULTS } from './runtime/local-env';
export {
  findFunction,
  loadTemplate,
  TEMPLATE_PATH,
  type ApiRoute,
  type BuildProperties,
  type FunctionSpec,
  type SamTemplate,
} from './template/template';
