import { z } from 'zod';
import { ConfigError, readConfig, serviceEnv } from '@twin/service-kit';
import { readBackendConfig } from '../../../services/backend/src/config';
import { readFrontendConfig } from '../../../services/frontend/src/config';

const schema = z.object({
  ...serviceEnv,
  PORT: serviceEnv.PORT.default(8080),
  BUCKET: z.string().min(3),
  DEADLINE_MS: z.coerce.number().int().min(100).max(60_000).default(3000),
  URL: z.url().optional(),
});

/** The message readConfig throws for `env`. */
function problems(read: (env: NodeJS.ProcessEnv) => unknown, env: NodeJS.ProcessEnv): string {
  try {
    read(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('readConfig', () => {
  it('applies defaults and coerces numbers', () => {
    expect(readConfig(schema, { BUCKET: 'images', PORT: '9000' })).toEqual({
      PORT: 9000,
      HOST: '127.0.0.1',
      APP_VERSION: '1.0.0',
      LOG_LEVEL: 'info',
      BUCKET: 'images',
      DEADLINE_MS: 3000,
    });
  });

  it('listens on loopback unless HOST names another address', () => {
    expect(readConfig(schema, { BUCKET: 'images', HOST: '' }).HOST).toBe('127.0.0.1');
    expect(readConfig(schema, { BUCKET: 'images', HOST: '0.0.0.0' }).HOST).toBe('0.0.0.0');
    expect(readConfig(schema, { BUCKET: 'images', HOST: '::' }).HOST).toBe('::');
  });

  it('treats empty variables as unset', () => {
    expect(readConfig(schema, { BUCKET: 'images', PORT: '', APP_VERSION: '' })).toMatchObject({
      PORT: 8080,
      APP_VERSION: '1.0.0',
    });
  });

  it("lists every problem with its variable, in the project's words, never zod's", () => {
    const message = problems((env) => readConfig(schema, env), {
      PORT: '70000',
      HOST: 'my laptop',
      LOG_LEVEL: 'loud',
      DEADLINE_MS: '2.5',
      URL: 'not a url',
    });
    expect(message.split('\n')).toEqual([
      'invalid configuration:',
      '  PORT: must be at most 65535',
      '  HOST: must be an IP address or a host name, e.g. 0.0.0.0',
      '  LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent',
      '  BUCKET: is required',
      '  DEADLINE_MS: must be an integer',
      '  URL: must be a URL',
    ]);
    expect(problems((env) => readConfig(schema, env), { BUCKET: 'ab', PORT: 'http', DEADLINE_MS: '5' })).toBe(
      [
        'invalid configuration:',
        '  PORT: must be a number',
        '  BUCKET: must be at least 3 characters long',
        '  DEADLINE_MS: must be at least 100',
      ].join('\n'),
    );
  });

  it("says what an absent variable needs, with the schema's own hint where it has one", () => {
    expect(problems(readBackendConfig, { AWS_REGION: '' })).toBe(
      'invalid configuration:\n  AWS_REGION: is required (any value for dynalite or dynamodb-local)',
    );
    expect(problems(readBackendConfig, { AWS_REGION: 'x', TABLE_NAME: 'a b', CREATE_TABLE: 'yes' })).toBe(
      [
        'invalid configuration:',
        '  TABLE_NAME: must be 3 to 255 letters, digits, _, - or . (a DynamoDB table name)',
        '  CREATE_TABLE: must be true, false, 1 or 0',
      ].join('\n'),
    );
    expect(problems(readFrontendConfig, {})).toBe(
      [
        'invalid configuration:',
        '  BACKEND_URL: must be an http(s) URL, e.g. http://localhost:8081',
        '  AWS_REGION: is required (any value for MinIO or s3rver)',
      ].join('\n'),
    );
  });
});
