export { createServiceApp, type ServiceAppOptions } from './app';
export { rawBody, textBody } from './body';
export { commonEnv, ConfigError, configMessage, readConfig } from './config';
export { serviceEnv } from './service-env';
export { HttpError } from './errors';
export { onStopRequest, type StopReason, type StopRequestOptions } from './lifecycle';
export { finishApp, main, runService, type RunOptions } from './server';
export { callUpstream, type UpstreamRequest, type UpstreamResponse } from './upstream';
