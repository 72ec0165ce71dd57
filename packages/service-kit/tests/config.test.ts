import { z } from 'zod';
import { ConfigError, readConfig, serviceEnv } from '@twin/service-kit';

const schema = z.object({ ...serviceEnv, PORT: serviceEnv.PORT.default(8080), BUCKET: z.string().min(3) });

describe('readConfig', () => {
  it('applies defaults and coerces numbers', () => {
    expect(readConfig(schema, { BUCKET: 'images', PORT: '9000' })).toEqual({
      PORT: 9000,
      HOST: '127.0.0.1',
      APP_VERSION: '1.0.0',
      LOG_LEVEL: 'info',
      BUCKET: 'images',
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

  it('lists every problem with its variable', () => {
    let error: unknown;
    try {
      readConfig(schema, { PORT: '70000', HOST: 'my laptop', LOG_LEVEL: 'loud' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toMatch(/^invalid configuration:/);
    expect(message).toMatch(/PORT: /);
    expect(message).toContain('HOST: must be an IP address or a host name');
    expect(message).toMatch(/LOG_LEVEL: /);
    expect(message).toMatch(/BUCKET: /);
  });
});
