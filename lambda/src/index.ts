export { FUNCTIONS_PATH } from './emulator/paths';
export type { FunctionStats, ServiceStats } from './emulator/lambda-service';
export type { PoolStats } from './emulator/environment-pool';
export { loadTemplate, TEMPLATE_PATH } from './template/template';
export { LOCAL_CREDENTIALS } from './runtime/local-env';
