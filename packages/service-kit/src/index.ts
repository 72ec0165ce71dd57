export { createServiceApp, type ServiceAppOptions } from './app';
export { textBody } from './body';
export { ConfigError, readConfig } from './config';
export { serviceEnv } from './service-env';
export { HttpError } from './errors';
export { healthRoutes, type HealthOptions, versionRoute } from './health';
export { errorHandler, notFound } from './middleware';
export { finishApp, main, runService, type RunOptions } from './server';
export { callUpstream, type UpstreamRequest, type UpstreamResponse } from './upstream';
