// The prices the cost model uses, read from bench/prices.json: every price in one dated file, each
// with its unit and the page it was read from.
import { readFileSync } from 'node:fs';
import path from 'node:path';

/** The numbers the cost model multiplies with: prices in `currency`, and the node's shape. */
export interface Prices {
  region: string;
  /** When the prices were read off their pages (year-month). */
  asOf: string;
  currency: string;
  /** Lambda, x86_64, per GB-second of duration; a billed INIT phase counts alike. */
  lambdaPerGbSecond: number;
  lambdaPerMillionRequests: number;
  /** API Gateway REST API, per million calls (first 333 million a month). */
  apiGatewayRestPerMillion: number;
  /** CloudWatch Logs ingestion, per GB (standard class). */
  cloudWatchLogsPerGb: number;
  /** The Kubernetes worker node. */
  nodeType: string;
  nodeHourly: number;
  nodeVcpu: number;
  nodeMemoryGib: number;
  /** Share of a node's CPU and memory the scheduler may hand out (the rest: kubelet, OS, eviction). */
  nodeAllocatable: number;
  /** The managed control plane (EKS), per cluster-hour. */
  clusterHourly: number;
  /** The Network Load Balancer in front of the ingress gateway: per hour, and per capacity unit-hour. */
  loadBalancerHourly: number;
  loadBalancerPerLcuHour: number;
  hoursPerMonth: number;
}

/** What a price is and where it comes from, by the field name of Prices. */
export interface PriceSource {
  value: number;
  unit: string;
  source: string;
}

interface PricesFile {
  asOf: string;
  region: string;
  currency: string;
  about: string;
  prices: Record<string, PriceSource>;
  node: { type: string; vcpu: number; memoryGib: number; allocatable: number; hoursPerMonth: number };
}

export const PRICES_FILE = path.join(__dirname, '..', 'prices.json');

const PRICE_FIELDS = [
  'lambdaPerGbSecond',
  'lambdaPerMillionRequests',
  'apiGatewayRestPerMillion',
  'cloudWatchLogsPerGb',
  'nodeHourly',
  'clusterHourly',
  'loadBalancerHourly',
  'loadBalancerPerLcuHour',
] as const;

/** Reads bench/prices.json; throws naming the field when a price lacks its value, unit or source. */
export function readPricesFile(file = PRICES_FILE): {
  prices: Prices;
  sources: Record<string, PriceSource>;
  about: string;
} {
  const data = JSON.parse(readFileSync(file, 'utf8')) as PricesFile;
  const sources: Record<string, PriceSource> = {};
  const values: Record<string, number> = {};
  for (const field of PRICE_FIELDS) {
    const entry = data.prices?.[field];
    if (!entry || typeof entry.value !== 'number' || !entry.unit || !/^https:\/\//.test(entry.source ?? '')) {
      throw new Error(`${file}: prices.${field} needs a numeric value, a unit and an https source`);
    }
    sources[field] = entry;
    values[field] = entry.value;
  }
  return {
    about: data.about,
    sources,
    prices: {
      ...(values as Record<(typeof PRICE_FIELDS)[number], number>),
      region: data.region,
      asOf: data.asOf,
      currency: data.currency,
      nodeType: `${data.node.type} (${data.node.vcpu} vCPU, ${data.node.memoryGib} GiB)`,
      nodeVcpu: data.node.vcpu,
      nodeMemoryGib: data.node.memoryGib,
      nodeAllocatable: data.node.allocatable,
      hoursPerMonth: data.node.hoursPerMonth,
    },
  };
}

const DEFAULTS = readPricesFile();

/** The prices of bench/prices.json. */
export const DEFAULT_PRICES: Prices = DEFAULTS.prices;
/** Unit and source of each price in bench/prices.json, by field name. */
export const PRICE_SOURCES: Record<string, PriceSource> = DEFAULTS.sources;

/**
 * The default prices with the fields of a JSON file (`--prices FILE`) over them: any subset of the
 * fields of Prices, by name, each of the same type. Throws naming an unknown or mistyped field.
 */
export function loadPrices(file: string | undefined): Prices {
  if (!file) return DEFAULT_PRICES;
  const overrides = JSON.parse(readFileSync(file, 'utf8')) as Partial<Prices>;
  for (const [key, value] of Object.entries(overrides)) {
    if (!(key in DEFAULT_PRICES)) throw new Error(`--prices: unknown field ${key}`);
    if (typeof value !== typeof DEFAULT_PRICES[key as keyof Prices]) {
      throw new Error(`--prices: ${key} must be a ${typeof DEFAULT_PRICES[key as keyof Prices]}`);
    }
  }
  return { ...DEFAULT_PRICES, ...overrides };
}
