export { createServiceApp, type ServiceAppOptions } from './app';
export { rawBody, textBody } from './body';
export { ConfigError, readConfig } from './config';
export { serviceEnv } from './service-env';
export { HttpError } from './errors';
export { finishApp, main, runService, type RunOptions } from './server';
export { callUpstream, type UpstreamRequest, type UpstreamResponse } from './upstream';
