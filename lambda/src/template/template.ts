import { readFileSync } from 'node:fs';
import path from 'node:path';
import isPlainObject from 'is-plain-obj';
import { parse, type Tags } from 'yaml';

/** The workspace folder (lambda/), from src/template or dist/template alike. */
export const LAMBDA_DIR = path.resolve(__dirname, '..', '..');
export const TEMPLATE_PATH = path.join(LAMBDA_DIR, 'template.yaml');

/** The esbuild options SAM reads from a function's Metadata (BuildMethod: esbuild). */
export interface BuildProperties {
  Minify?: boolean;
  Target?: string;
  Sourcemap?: boolean;
  /** esbuild's --keep-names: `name` of classes and functions as in the source, despite Minify. */
  KeepNames?: boolean;
  EntryPoints?: string[];
  External?: string[];
  Format?: string;
}

/** An `Api` event of a function: a route of the implicit REST API. */
export interface ApiRoute {
  /** The event's name in the template, e.g. GetProduct. */
  event: string;
  /** Upper case, or ANY. */
  method: string;
  /** API Gateway's resource path, e.g. /products/{id}. */
  path: string;
}

export interface FunctionSpec {
  logicalId: string;
  /** As in the template, e.g. hello.handler: the file esbuild writes (hello.js) and its export. */
  handler: string;
  exportName: string;
  /** The TypeScript entry point, relative to the function's CodeUri (an absolute path in `entryPath`). */
  entryPoint: string;
  entryPath: string;
  runtime: string;
  architectures: string[];
  timeoutSeconds: number;
  memoryMb: number;
  /** Retries of asynchronous invocations (EventInvokeConfig.MaximumRetryAttempts; Lambda's default 2). */
  maximumRetryAttempts: number;
  /** How long an asynchronous event may wait for its retries (EventInvokeConfig; default 6 hours). */
  maximumEventAgeSeconds: number;
  /** ReservedConcurrentExecutions: the function's own concurrency, and its ceiling. */
  reservedConcurrency?: number;
  /** AutoPublishAlias: the alias each deployment publishes a version behind, e.g. live. */
  autoPublishAlias?: string;
  /**
   * Environment.Variables (Globals' merged with the function's, as SAM merges maps) that have a
   * value here: literals, and Refs to parameters with a Default. Refs to resources are left out.
   */
  environment: Record<string, string>;
  /**
   * The stores its Policies let it call: SAM policy templates named after them (DynamoDBCrudPolicy,
   * S3ReadPolicy...) and statements' actions (dynamodb:GetItem, s3:GetObject).
   */
  stores: StoreService[];
  buildProperties: BuildProperties;
  routes: ApiRoute[];
}

/** The AWS services a function may use as stores, by their endpoint id (AWS_ENDPOINT_URL_<ID>). */
export type StoreService = 'dynamodb' | 's3';
const STORE_SERVICES: readonly StoreService[] = ['dynamodb', 's3'];

/** An API Gateway gateway response (Globals.Api.GatewayResponses): what the API answers for a failure type. */
export interface GatewayResponse {
  statusCode?: number;
  /** Static header values (the template quotes them: "'1'"). */
  headers: Record<string, string>;
}

/** Settings of the implicit REST API (ServerlessRestApi) that SAM builds from the Api events. */
export interface ApiSettings {
  /**
   * Globals.Api.BinaryMediaTypes, with the `~1` escape of '/' undone (`image~1png` is image/png):
   * request bodies whose Content-Type matches one reach the function base64-encoded.
   */
  binaryMediaTypes: string[];
  /** Globals.Api.GatewayResponses by response type, e.g. INTEGRATION_FAILURE. */
  gatewayResponses: Record<string, GatewayResponse>;
}

export interface SamTemplate {
  path: string;
  /** The parsed document, intrinsic functions in their long form ({"Ref": ...}, {"Fn::Sub": ...}). */
  document: Record<string, unknown>;
  functions: FunctionSpec[];
  api: ApiSettings;
}

export class TemplateError extends Error {
  override name = 'TemplateError';
}

const INTRINSICS = ['Ref', 'Condition', 'Base64', 'Cidr', 'FindInMap', 'GetAtt', 'GetAZs', 'ImportValue']
  .concat(['Join', 'Select', 'Split', 'Sub', 'Transform', 'And', 'Equals', 'If', 'Not', 'Or'])
  .concat(['ToJsonString', 'Length']);

/** CloudFormation's short forms (!Ref, !Sub, !GetAtt ...) read as their long forms. */
const cloudFormationTags: Tags = INTRINSICS.flatMap((name) => {
  const key = name === 'Ref' || name === 'Condition' ? name : `Fn::${name}`;
  const wrap = (value: unknown) => ({
    [key]: name === 'GetAtt' && typeof value === 'string' ? value.split('.') : value,
  });
  return [
    { tag: `!${name}`, resolve: (value: string) => wrap(value) },
    ...(['seq', 'map'] as const).map((collection) => ({
      tag: `!${name}`,
      collection,
      resolve: (node: { toJSON(): unknown }) => wrap(node.toJSON()),
    })),
  ];
});

/** A JSON or YAML object: what the template, events and proxy results are made of. */
export type Dict = Record<string, unknown>;

function dict(value: unknown): Dict {
  return isPlainObject(value) ? value : {};
}

/** A variable's value when the template alone decides it: a literal, or a parameter's Default. */
function literal(value: unknown, parameters: Dict): string | undefined {
  if (['string', 'number', 'boolean'].includes(typeof value)) return String(value);
  const ref = dict(value).Ref;
  const fallback = typeof ref === 'string' ? dict(parameters[ref]).Default : undefined;
  return fallback === undefined ? undefined : String(fallback);
}

const asList = (value: unknown): unknown[] =>
  Array.isArray(value) ? value : value === undefined ? [] : [value];

/** The stores a function's Policies grant it, from policy template names and statements' actions. */
function storesOf(policies: unknown): StoreService[] {
  const names: string[] = [];
  for (const policy of asList(policies)) {
    if (typeof policy === 'string') names.push(policy); // a managed policy's name or ARN
    for (const [key, value] of Object.entries(dict(policy))) {
      if (key !== 'Statement') names.push(key);
      else for (const statement of asList(value)) names.push(...asList(dict(statement).Action).map(String));
    }
  }
  return STORE_SERVICES.filter((service) => names.some((name) => name.toLowerCase().startsWith(service)));
}

function readFunction(
  logicalId: string,
  resource: Dict,
  globals: Dict,
  parameters: Dict,
  templateDir: string,
): FunctionSpec {
  const properties = { ...globals, ...dict(resource.Properties) };
  const variables = {
    ...dict(dict(globals.Environment).Variables),
    ...dict(dict(dict(resource.Properties).Environment).Variables),
  };
  const environment = Object.fromEntries(
    Object.entries(variables).flatMap(([name, value]) => {
      const text = literal(value, parameters);
      return text === undefined ? [] : [[name, text]];
    }),
  );
  const handler = properties.Handler;
  if (typeof handler !== 'string' || !/^[^.]+\.[^.]+$/.test(handler)) {
    throw new TemplateError(`${logicalId}: Handler must look like <file>.<export>, got ${String(handler)}`);
  }
  const [file, exportName] = handler.split('.') as [string, string];
  const buildProperties = dict(dict(resource.Metadata).BuildProperties) as BuildProperties;
  const entryPoint = buildProperties.EntryPoints?.[0];
  if (typeof entryPoint !== 'string')
    throw new TemplateError(`${logicalId}: Metadata.BuildProperties.EntryPoints is missing`);
  // esbuild names its output after the entry point; the Handler must name that file.
  if (path.basename(entryPoint, path.extname(entryPoint)) !== file) {
    throw new TemplateError(`${logicalId}: Handler ${handler} does not name the bundle of ${entryPoint}`);
  }
  const codeUri = typeof properties.CodeUri === 'string' ? properties.CodeUri : '.';
  const routes: ApiRoute[] = [];
  for (const [event, definition] of Object.entries(dict(properties.Events))) {
    const { Type, Properties } = dict(definition);
    if (Type !== 'Api') continue;
    const { Path, Method } = dict(Properties);
    if (typeof Path !== 'string' || typeof Method !== 'string') {
      throw new TemplateError(`${logicalId}: Api event ${event} needs Path and Method`);
    }
    routes.push({ event, method: Method.toUpperCase(), path: Path });
  }
  const { MaximumRetryAttempts: retries, MaximumEventAgeInSeconds: maxAge } = dict(
    properties.EventInvokeConfig,
  );
  const reserved = properties.ReservedConcurrentExecutions;
  if (reserved !== undefined && (!Number.isInteger(reserved) || (reserved as number) < 0)) {
    throw new TemplateError(
      `${logicalId}: ReservedConcurrentExecutions must be a whole number, got ${String(reserved)}`,
    );
  }
  return {
    logicalId,
    handler,
    exportName,
    entryPoint,
    entryPath: path.resolve(templateDir, codeUri, entryPoint),
    runtime: String(properties.Runtime),
    architectures: Array.isArray(properties.Architectures)
      ? properties.Architectures.map(String)
      : ['x86_64'],
    timeoutSeconds: typeof properties.Timeout === 'number' ? properties.Timeout : 3,
    memoryMb: typeof properties.MemorySize === 'number' ? properties.MemorySize : 128,
    maximumRetryAttempts: typeof retries === 'number' ? retries : 2,
    maximumEventAgeSeconds: typeof maxAge === 'number' ? maxAge : 21_600,
    ...(reserved !== undefined ? { reservedConcurrency: reserved as number } : {}),
    ...(typeof properties.AutoPublishAlias === 'string'
      ? { autoPublishAlias: properties.AutoPublishAlias }
      : {}),
    environment,
    stores: storesOf(properties.Policies),
    buildProperties,
    routes,
  };
}

function readApiSettings(globals: Dict, file: string): ApiSettings {
  const types = globals.BinaryMediaTypes ?? [];
  if (!Array.isArray(types) || !types.every((type) => typeof type === 'string')) {
    throw new TemplateError(`${file}: Globals.Api.BinaryMediaTypes must be a list of media types`);
  }
  // CloudFormation's RestApi takes '/' escaped as '~1' (a JSON Pointer escape); SAM accepts both.
  return {
    binaryMediaTypes: types.map((type: string) => type.replace(/~1/g, '/')),
    gatewayResponses: readGatewayResponses(globals.GatewayResponses),
  };
}

/**
 * Reads a SAM template: its functions, with Globals applied, their handlers, esbuild options and
 * Api routes, and the implicit API's binary media types. The emulator, the invoke CLI and the
 * bundler all take these from here, so they cannot drift from what `sam build` and `sam deploy` do.
 */
export function loadTemplate(file = TEMPLATE_PATH): SamTemplate {
  let document: unknown;
  try {
    document = parse(readFileSync(file, 'utf8'), { customTags: cloudFormationTags });
  } catch (err) {
    throw new TemplateError(`${file}: ${(err as Error).message}`);
  }
  if (!isPlainObject(document)) throw new TemplateError(`${file}: not a SAM template`);
  const globals = dict(dict(document.Globals).Function);
  const functions = Object.entries(dict(document.Resources))
    .filter(([, resource]) => dict(resource).Type === 'AWS::Serverless::Function')
    .map(([logicalId, resource]) =>
      readFunction(logicalId, dict(resource), globals, dict(document.Parameters), path.dirname(file)),
    );
  return { path: file, document, functions, api: readApiSettings(dict(dict(document.Globals).Api), file) };
}

/** Gateway responses with the status code as a number and header values unquoted. */
function readGatewayResponses(responses: unknown): Record<string, GatewayResponse> {
  return Object.fromEntries(
    Object.entries(dict(responses)).map(([type, definition]) => {
      const { StatusCode, ResponseParameters } = dict(definition);
      const headers = Object.entries(dict(dict(ResponseParameters).Headers)).map(
        ([name, value]) => [name, String(value).replace(/^'(.*)'$/, '$1')] as const,
      );
      return [
        type,
        {
          ...(StatusCode !== undefined ? { statusCode: Number(StatusCode) } : {}),
          headers: Object.fromEntries(headers),
        },
      ];
    }),
  );
}

/**
 * Finds a function by its logical id (HelloFunction, as `sam local invoke` takes it) or by the file
 * its Handler names (hello).
 */
export function findFunction(template: SamTemplate, name: string): FunctionSpec | undefined {
  return (
    template.functions.find((fn) => fn.logicalId === name) ??
    template.functions.find((fn) => fn.handler.split('.')[0] === name)
  );
}
