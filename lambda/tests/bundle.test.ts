import { mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { type Bundle, bundleFunctions, esbuildOptions } from '../src/bundle';
import { loadTemplate } from '../src/template/template';

const template = loadTemplate();
let root: string;
let bundles: Bundle[];

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'lambda-bundles-'));
  bundles = await bundleFunctions(root, template);
  // What Lambda gives the bundles and they leave out (sharp: the layer) resolves from here.
  await symlink(path.resolve(__dirname, '../../node_modules'), path.join(root, 'node_modules'));
}, 60_000);
afterAll(() => rm(root, { recursive: true, force: true }));

const bundle = (name: string) => bundles.find((b) => b.function === name)!;

describe('npm run bundle -w lambda', () => {
  it('passes esbuild what sam build passes, taken from the template', () => {
    const image = template.functions.find((spec) => spec.logicalId === 'ImageProcessorFunction')!;
    expect(esbuildOptions(image, '/out')).toMatchObject({
      entryPoints: [image.entryPath],
      bundle: true,
      platform: 'node',
      format: 'cjs',
      minify: true,
      target: 'es2022',
      sourcemap: false,
      keepNames: true,
      external: ['sharp'],
      outdir: '/out',
    });
  });

  it('writes one bundle per function, named as the Handler says', () => {
    expect(bundles.map((b) => path.relative(root, b.file))).toEqual([
      path.join('HelloFunction', 'hello.js'),
      path.join('ProductsFunction', 'products.js'),
      path.join('ImageProcessorFunction', 'imageProcessor.js'),
    ]);
    for (const b of bundles) expect(b.gzipBytes).toBeLessThan(b.bytes);
  });

  it('makes a hello bundle that runs on its own', async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { handler } = require(bundle('HelloFunction').file) as {
      handler: (event: unknown) => Promise<APIGatewayProxyResult>;
    };
    const result = await handler({ queryStringParameters: { name: 'Alice' } });
    expect(JSON.parse(result.body).message).toBe('Hello, Alice!');
  });

  it('keeps class names through minification, so logged errors say what they are', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, { BUCKET: 'images', AWS_REGION: 'us-east-1', LOG_LEVEL: 'silent' });
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { handler } = require(bundle('ImageProcessorFunction').file) as {
        handler: (event: unknown) => Promise<unknown>;
      };
      const error = (await handler({ Records: 'not a list' }).catch((err: unknown) => err)) as Error;
      expect(error.constructor.name).toBe('InvalidNotificationError');
    } finally {
      process.env = saved;
    }
  });

  it('bundles the AWS SDK but leaves sharp to the layer', async () => {
    const image = await readFile(bundle('ImageProcessorFunction').file, 'utf8');
    expect(image).toContain('require("sharp")');
    expect(image).not.toMatch(/libvips|sharp-linux-x64/);
    expect(image).toContain('S3Client');
  });

  it("makes a products bundle that speaks DynamoDB's JSON API without the SDK's client or credential chain (cold starts)", async () => {
    const products = await readFile(bundle('ProductsFunction').file, 'utf8');
    expect(products).toContain('DynamoDB_20120810.');
    expect(products).not.toMatch(/DynamoDBClient|fromNodeProviderChain|AWS_PROFILE|169\.254\.169\.254/);
  });

  it('keeps the OpenTelemetry SDK out of the bundles (cold starts)', async () => {
    for (const b of bundles) {
      expect(await readFile(b.file, 'utf8')).not.toMatch(/@opentelemetry\/sdk-|BatchSpanProcessor/);
      expect(b.bytes).toBeLessThan(2 * 1024 * 1024);
    }
    expect(bundle('HelloFunction').bytes).toBeLessThan(16 * 1024);
  });
});
