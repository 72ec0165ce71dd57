import { applyLocalDefaults, LOCAL_CREDENTIALS, LOCAL_DEFAULTS } from '../src/runtime/local-env';

describe('local defaults of the invoke CLI and the emulator', () => {
  it('points the handlers at the npm start stack when nothing is set', () => {
    const env: NodeJS.ProcessEnv = {};
    applyLocalDefaults(env);
    expect(env).toEqual({ ...LOCAL_DEFAULTS, ...LOCAL_CREDENTIALS });
    expect(env).toMatchObject({
      AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:8000',
      AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:4569',
      TABLE_NAME: 'products',
      BUCKET: 'images',
    });
  });

  it('keeps what the environment sets, and an empty endpoint means AWS’s own', () => {
    const env: NodeJS.ProcessEnv = {
      TABLE_NAME: 'other',
      AWS_ENDPOINT_URL_S3: '',
      AWS_ENDPOINT_URL_DYNAMODB: 'http://localhost:9000',
      AWS_PROFILE: 'dev',
    };
    applyLocalDefaults(env);
    expect(env.TABLE_NAME).toBe('other');
    expect(env.AWS_ENDPOINT_URL_DYNAMODB).toBe('http://localhost:9000');
    expect(env).not.toHaveProperty('AWS_ENDPOINT_URL_S3');
    expect(env).not.toHaveProperty('AWS_ACCESS_KEY_ID');
  });
});
