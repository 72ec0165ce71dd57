export { FUNCTIONS_PATH, READY_PATH } from './emulator/server';
export { INVOKE_PATH } from './emulator/invoke-api';
export type { FunctionStats, ServiceStats } from './emulator/lambda-service';
export type { PoolStats } from './emulator/environment-pool';
export { loadTemplate, TEMPLATE_PATH } from './template/template';
export {
  LOCAL_CREDENTIALS,
  type LocalStackRecord,
  removeLocalStack,
  writeLocalStack,
} from './runtime/local-env';
