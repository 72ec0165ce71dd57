import { readFileSync } from 'node:fs';
import path from 'node:path';
import { NEWEST_FIRST, PRODUCTS_TABLE } from '@twin/products';
import { ApiRouter } from '../src/emulator/api-gateway';
import { loadTemplate } from '../src/template/template';
import { LAMBDA_DIR } from './helpers';

const template = loadTemplate();
const document = template.document as {
  Globals: { Function: Record<string, unknown> };
  Resources: Record<
    string,
    { Type: string; Properties: Record<string, unknown>; Metadata?: Record<string, unknown> }
  >;
  Outputs: Record<string, { Value: unknown }>;
};
const resources = document.Resources;
const fn = (id: string) => template.functions.find((spec) => spec.logicalId === id)!;
const image = resources.ImageProcessorFunction!.Properties;

/** Every Ref / GetAtt / Sub variable inside a value. */
function references(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(references);
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([key, inner]) => {
    if (key === 'Ref' && typeof inner === 'string') return [inner];
    if (key === 'Fn::GetAtt') return [String((inner as string[])[0])];
    if (key === 'Fn::Sub') {
      const text = Array.isArray(inner) ? String(inner[0]) : String(inner);
      return [...text.matchAll(/\$\{([^}.!]+)/g)].map((m) => m[1] as string).concat(references(inner));
    }
    return references(inner);
  });
}

describe('template.yaml', () => {
  it('declares the three functions with the routes the emulator serves', () => {
    expect(template.functions.map((spec) => spec.logicalId)).toEqual([
      'HelloFunction',
      'ProductsFunction',
      'ImageProcessorFunction',
    ]);
    const routes = template.functions.flatMap((spec) =>
      spec.routes.map((route) => `${route.method} ${route.path} -> ${spec.logicalId}`),
    );
    expect(routes).toEqual([
      'GET /hello -> HelloFunction',
      'GET /products -> ProductsFunction',
      'POST /products -> ProductsFunction',
      'GET /products/{id} -> ProductsFunction',
      'DELETE /products/{id} -> ProductsFunction',
      'GET /version -> ProductsFunction',
    ]);
    const router = new ApiRouter(template.functions, template.api);
    expect(router.match('GET', '/Prod/hello')?.spec.logicalId).toBe('HelloFunction');
    expect(router.match('DELETE', '/products/abc')).toMatchObject({
      route: { path: '/products/{id}' },
      pathParameters: { id: 'abc' },
    });
    expect(router.match('PUT', '/products/abc')).toBeUndefined();
    expect(router.match('GET', '/products/a/b')).toBeUndefined();
  });

  it('hands every request body to the functions as bytes (BinaryMediaTypes */*)', () => {
    expect(template.api.binaryMediaTypes).toEqual(['*/*']);
  });

  it('points each Handler at the bundle of its entry point, which exports it', () => {
    for (const spec of template.functions) {
      const [file, exportName] = spec.handler.split('.');
      expect(path.basename(spec.entryPoint, '.ts')).toBe(file);
      expect(spec.entryPath.startsWith(path.join(LAMBDA_DIR, 'src', 'handlers'))).toBe(true);
      const source = readFileSync(spec.entryPath, 'utf8');
      expect(source).toMatch(new RegExp(`^export const ${exportName} = `, 'm'));
    }
  });

  it('runs Node.js 24 on x86_64, the architecture of the sharp layer', () => {
    for (const spec of template.functions) {
      expect(spec.runtime).toBe('nodejs24.x');
      expect(spec.architectures).toEqual(['x86_64']);
    }
    const layer = resources.SharpLayer!;
    expect(layer.Type).toBe('AWS::Serverless::LayerVersion');
    expect(layer.Metadata).toEqual({ BuildMethod: 'makefile', BuildArchitecture: 'x86_64' });
    expect(layer.Properties.CompatibleArchitectures).toEqual(['x86_64']);
    expect(layer.Properties.CompatibleRuntimes).toEqual(['nodejs24.x']);
    const makefile = readFileSync(
      path.join(LAMBDA_DIR, String(layer.Properties.ContentUri), 'Makefile'),
      'utf8',
    );
    expect(makefile).toMatch(/^build-SharpLayer:$/m);
    expect(makefile).toContain('--cpu=x64 --os=linux --libc=glibc sharp@$(SHARP_VERSION)');
    expect(makefile).toContain('"$(ARTIFACTS_DIR)/nodejs"');
    // The layer ships the sharp the thumbnails package is tested with.
    const sharpVersion = JSON.parse(
      readFileSync(path.join(LAMBDA_DIR, '..', 'node_modules', 'sharp', 'package.json'), 'utf8'),
    ).version;
    expect(makefile).toMatch(new RegExp(`^SHARP_VERSION := ${sharpVersion.replace(/\./g, '\\.')}$`, 'm'));
  });

  it('bundles with esbuild, leaving sharp to the layer', () => {
    for (const spec of template.functions) {
      expect(resources[spec.logicalId]!.Metadata!.BuildMethod).toBe('esbuild');
      expect(spec.buildProperties).toMatchObject({ Minify: true, Target: 'es2022' });
    }
    expect(fn('ImageProcessorFunction').buildProperties.External).toEqual(['sharp']);
    expect(image.Layers).toEqual([{ Ref: 'SharpLayer' }]);
    expect(fn('HelloFunction').buildProperties.External).toBeUndefined();
  });

  it('triggers imageProcessor on uploads/ of a bucket in this template, and stops recursion', () => {
    const events = image.Events as Record<string, { Type: string; Properties: Record<string, unknown> }>;
    const s3 = Object.values(events).filter((event) => event.Type === 'S3');
    expect(s3).toHaveLength(1);
    expect(s3[0]!.Properties).toEqual({
      Bucket: { Ref: 'ImagesBucket' },
      Events: 's3:ObjectCreated:*',
      Filter: { S3Key: { Rules: [{ Name: 'prefix', Value: 'uploads/' }] } },
    });
    expect(resources.ImagesBucket!.Type).toBe('AWS::S3::Bucket');
    expect(resources.ImagesBucket!.Properties.BucketName).toEqual({ Ref: 'BucketName' });
    expect(image.RecursiveLoop).toBe('Terminate');
  });

  it('grants least privilege without referencing the bucket resource (no circular dependency)', () => {
    for (const spec of template.functions) {
      const policies = resources[spec.logicalId]!.Properties.Policies;
      expect(references(policies)).not.toContain('ImagesBucket');
      expect(references(resources[spec.logicalId]!.Properties.Environment)).not.toContain('ImagesBucket');
    }
    const statements = (image.Policies as Array<{ Statement: Array<Record<string, unknown>> }>)[0]!.Statement;
    expect(statements).toEqual([
      {
        Effect: 'Allow',
        Action: 's3:GetObject',
        Resource: { 'Fn::Sub': 'arn:${AWS::Partition}:s3:::${BucketName}/uploads/*' },
      },
      {
        Effect: 'Allow',
        Action: ['s3:GetObject', 's3:PutObject'],
        Resource: { 'Fn::Sub': 'arn:${AWS::Partition}:s3:::${BucketName}/thumbnails/*' },
      },
      {
        Effect: 'Allow',
        Action: 's3:ListBucket',
        Resource: { 'Fn::Sub': 'arn:${AWS::Partition}:s3:::${BucketName}' },
      },
    ]);
    expect(resources.ProductsFunction!.Properties.Policies).toEqual([
      {
        Statement: [
          {
            Effect: 'Allow',
            Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem'],
            Resource: { 'Fn::GetAtt': ['ProductsTable', 'Arn'] },
          },
          {
            Effect: 'Allow',
            Action: 'dynamodb:Query',
            Resource: { 'Fn::Sub': `\${ProductsTable.Arn}/index/${NEWEST_FIRST.indexName}` },
          },
        ],
      },
    ]);
    expect(resources.HelloFunction!.Properties.Policies).toBeUndefined();
  });

  it('sends events that still fail after the retries to a queue', () => {
    expect(image.EventInvokeConfig).toEqual({
      MaximumRetryAttempts: 2,
      MaximumEventAgeInSeconds: 3600,
      DestinationConfig: {
        OnFailure: { Type: 'SQS', Destination: { 'Fn::GetAtt': ['ImageFailuresQueue', 'Arn'] } },
      },
    });
    expect(resources.ImageFailuresQueue!.Type).toBe('AWS::SQS::Queue');
    expect(fn('ImageProcessorFunction').maximumRetryAttempts).toBe(2);
  });

  it('stores products in an on-demand table keyed by id, with the newest-first index the code queries', () => {
    expect(resources.ProductsTable).toEqual({ Type: 'AWS::DynamoDB::Table', Properties: PRODUCTS_TABLE });
    expect((resources.ProductsFunction!.Properties.Environment as { Variables: unknown }).Variables).toEqual({
      TABLE_NAME: { Ref: 'ProductsTable' },
      APP_VERSION: { Ref: 'AppVersion' },
    });
  });

  it('sizes timeouts within API Gateway’s 29 s and gives sharp memory', () => {
    expect(fn('HelloFunction')).toMatchObject({ timeoutSeconds: 3, memoryMb: 128 });
    expect(fn('ProductsFunction')).toMatchObject({ timeoutSeconds: 10, memoryMb: 256 });
    expect(fn('ImageProcessorFunction')).toMatchObject({ timeoutSeconds: 60, memoryMb: 1024 });
  });

  it('publishes each function behind a live alias, shifted 10% first and rolled back on its errors', () => {
    const globals = document.Globals.Function;
    expect(globals.AutoPublishAlias).toBe('live');
    expect(globals.DeploymentPreference).toEqual({ Type: 'Canary10Percent5Minutes' });
    for (const spec of template.functions) {
      expect(spec.autoPublishAlias).toBe('live');
      const alarms = (resources[spec.logicalId]!.Properties.DeploymentPreference as { Alarms: unknown[] })
        .Alarms;
      expect(alarms).toHaveLength(1);
      const alarm = resources[references(alarms)[0] as string]!;
      expect(alarm.Type).toBe('AWS::CloudWatch::Alarm');
      expect(alarm.Properties).toMatchObject({
        Namespace: 'AWS/Lambda',
        MetricName: 'Errors',
        ComparisonOperator: 'GreaterThanThreshold',
        Threshold: 0,
      });
      // The new version's errors through the alias, not the function's as a whole.
      expect(alarm.Properties.Dimensions).toEqual([
        { Name: 'Resource', Value: { 'Fn::Sub': `\${${spec.logicalId}}:live` } },
        { Name: 'FunctionName', Value: { Ref: spec.logicalId } },
        { Name: 'ExecutedVersion', Value: { 'Fn::GetAtt': [spec.logicalId, 'Version', 'Version'] } },
      ]);
    }
    // /version tells which release of the products function answered.
    expect(fn('ProductsFunction').routes).toContainEqual({
      event: 'Version',
      method: 'GET',
      path: '/version',
    });
    expect(fn('ProductsFunction').environment).toMatchObject({ APP_VERSION: '1.0.0', LOG_LEVEL: 'info' });
  });

  it('outputs the API URL, the table and the bucket', () => {
    expect(document.Outputs.ApiUrl!.Value).toEqual({
      'Fn::Sub': 'https://${ServerlessRestApi}.execute-api.${AWS::Region}.amazonaws.com/Prod/',
    });
    expect(document.Outputs.ProductsTableName!.Value).toEqual({ Ref: 'ProductsTable' });
    expect(document.Outputs.ImagesBucketName!.Value).toEqual({ Ref: 'ImagesBucket' });
  });
});
