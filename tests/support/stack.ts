import { startStack, type Stack, type StackOptions } from '../../local/src';

/** The whole local stack on free ports, quiet, with fast event redelivery; tests override what they study. */
export function startTestStack(overrides: Partial<StackOptions> = {}): Promise<Stack> {
  return startStack({
    ports: { frontend: 0, backend: 0, thumbnailer: 0, lambda: 0, dynamodb: 0, s3: 0 },
    tableName: 'products',
    bucket: 'images',
    thumbnails: 'mesh',
    logLevel: 'warn',
    log: () => undefined,
    delivery: { firstDelayMs: 50, maxDelayMs: 500 },
    ...overrides,
  });
}
