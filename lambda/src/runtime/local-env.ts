/**
 * Where the handlers find their stores when they run on this machine: the `npm start` stack's
 * dynalite and s3rver, its bucket and table. Each applies only when its variable is unset.
 */
export const LOCAL_DEFAULTS: Readonly<Record<string, string>> = {
  AWS_REGION: 'us-east-1',
  AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:8000',
  AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:4569',
  TABLE_NAME: 'products',
  BUCKET: 'images',
};

/** s3rver checks signatures against these; dynalite accepts any. */
export const LOCAL_CREDENTIALS = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' };

/**
 * Fills in the local defaults. An endpoint variable set to the empty string is removed instead, so
 * the SDK uses the service's own endpoint (AWS). Credentials are added only when neither a key nor
 * a profile is configured. Call it before a handler module is loaded: handlers read the environment
 * once, when their container starts.
 */
export function applyLocalDefaults(env: NodeJS.ProcessEnv = process.env): void {
  for (const [name, value] of Object.entries(LOCAL_DEFAULTS)) {
    if (env[name] === undefined) env[name] = value;
    else if (env[name] === '' && name.startsWith('AWS_ENDPOINT_URL_')) delete env[name];
  }
  if (env.AWS_ACCESS_KEY_ID === undefined && env.AWS_PROFILE === undefined)
    Object.assign(env, LOCAL_CREDENTIALS);
}
