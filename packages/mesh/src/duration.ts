// Istio's duration fields (timeout, perTryTimeout, interval, baseEjectionTime, connectTimeout,
// fixedDelay) are Kubernetes strings in Go's duration syntax ("1.5s", "30s", "1m30s", "250ms"),
// checked by the CRDs with CEL's duration() and, for most fields, required to be at least 1ms
// (istio.io/latest/docs/reference/config/networking/virtual-service/#HTTPRoute, "format: 1h/1m/1s/1ms").

const UNIT_MS: Record<string, number> = {
  h: 3_600_000,
  m: 60_000,
  s: 1000,
  ms: 1,
  us: 0.001,
  µs: 0.001,
  ns: 0.000001,
};
const PART = /(\d+(?:\.\d*)?|\.\d+)(h|ms|m|s|us|µs|ns)/y;

/**
 * Parses a Go-syntax duration ("1.5s", "1m30s", "250ms") into milliseconds.
 * @returns the duration in ms (fractional below 1 ms), or undefined if `text` is not a duration.
 */
export function parseDuration(text: string): number | undefined {
  if (text === '0') return 0;
  let ms = 0;
  let at = 0;
  PART.lastIndex = 0;
  while (at < text.length) {
    PART.lastIndex = at;
    const m = PART.exec(text);
    if (!m) return undefined;
    ms += Number(m[1]) * UNIT_MS[m[2]!]!;
    at = PART.lastIndex;
  }
  return at === 0 ? undefined : ms;
}

/**
 * Formats milliseconds the way Envoy's protobuf JSON writes a Duration: seconds with up to nine
 * decimals and an `s` ("1.500s" becomes "1.5s"; 30000 becomes "30s").
 */
export function formatDuration(ms: number): string {
  const seconds = (ms / 1000).toFixed(9).replace(/\.?0+$/, '');
  return `${seconds}s`;
}
