/// <reference lib="dom" />
// The web page's canary panel in headless Chromium against npm start's mesh: the ingress gateway,
// the frontend's sidecar splitting calls to the backend between its v1 and v2 subsets by the
// canary-10 overlay's weights (90/10), the backend pods' sidecars, all in the real local data plane
// process. The chart must draw the split the sidecars made, request for request.
import path from 'node:path';
import type { Stack } from '../../local/src';
import { startTestStack } from '../support/stack';
import { launchBrowser, readCanaryChart, type TestBrowser, openPage, SCREENSHOTS } from './browser';

const REQUESTS = 300;
const BACKEND = 'backend.mesh-demo.svc.cluster.local';

/** The fields of the data plane's access log (Istio's JSON format) the test reads. */
interface AccessLogLine {
  proxy: string;
  method: string;
  path: string;
  response_code: number;
  upstream_cluster: string;
}

function parseAccessLog(line: string): AccessLogLine | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const entry = JSON.parse(line) as Partial<AccessLogLine>;
    return typeof entry.proxy === 'string' && typeof entry.response_code === 'number'
      ? (entry as AccessLogLine)
      : undefined;
  } catch {
    return undefined;
  }
}

describe('the canary panel through the mesh (npm start at canary-10, headless Chromium)', () => {
  let stack: Stack;
  let browser: TestBrowser;
  const accessLog: AccessLogLine[] = [];

  beforeAll(async () => {
    stack = await startTestStack({
      mesh: { stage: 'canary-10', replicas: { v1: 2, v2: 1 }, adminPort: 0 },
      traceStorePort: 0,
      env: { OTEL_BSP_SCHEDULE_DELAY: '200' },
      log: (name, line) => {
        const entry = name === 'mesh' ? parseAccessLog(line) : undefined;
        if (entry) accessLog.push(entry);
      },
    });
    browser = await launchBrowser('canary-mesh');
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  /** How many access log lines so far have every field of `match` (proxy, path, status, cluster). */
  const count = (match: Partial<AccessLogLine>) =>
    accessLog.filter((line) =>
      Object.entries(match).every(([key, value]) => line[key as keyof AccessLogLine] === value),
    ).length;
  const gatewayLines = { proxy: 'istio-ingressgateway', path: '/api/version' };
  const routedTo = (subset: string) => ({
    proxy: 'frontend',
    path: '/version',
    response_code: 200,
    upstream_cluster: `outbound|80|${subset}|${BACKEND}`,
  });
  const servedByV2 = { proxy: 'backend-v2-0', path: '/version', response_code: 200 };

  /** Waits until the gateway has logged `n` requests for /api/version: it logs each hop's last. */
  async function gatewayLogged(n: number): Promise<void> {
    const deadline = Date.now() + 60_000;
    while (count(gatewayLines) < n) {
      if (Date.now() > deadline)
        throw new Error(`the gateway logged ${count(gatewayLines)} of ${n} requests for /api/version`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  it('draws both versions with the counts the sidecars routed, near the 90/10 weights', async () => {
    const { page, problems } = await openPage(browser.context, stack.url('frontend'), 1280, 900);
    // The header's version badge asks too: its request is not the panel's.
    await page.locator('#version-value[data-version]').waitFor();
    await gatewayLogged(problems.versionRequests);
    const before = {
      gateway: count(gatewayLines),
      v1: count(routedTo('v1')),
      v2: count(routedTo('v2')),
      servedByV2: count(servedByV2),
    };

    await page.getByLabel('Requests').fill(String(REQUESTS));
    await page.getByRole('button', { name: 'Run' }).click();
    await page
      .locator('#canary-status')
      .getByText(new RegExp(`^${REQUESTS} answers in [\\d.]+ s: `))
      .waitFor({ timeout: 120_000 });
    const chart = await readCanaryChart(page);
    await page.locator('#canary').screenshot({ path: path.join(SCREENSHOTS, 'web-page-canary-mesh.png') });

    // Both versions, every request answered, each its own colour.
    expect(chart.labels).toEqual(['1.0.0', '2.0.0']);
    const [v1, v2] = chart.data as [number, number];
    expect(v1 + v2).toBe(REQUESTS);
    expect(new Set(chart.colors).size).toBe(2);
    // Binomial(300, 0.1) falls outside 10..60 about once in 300,000 runs; an even split over the
    // three pods (about 100) or 50/50 (about 150) does not pass.
    expect(v2).toBeGreaterThanOrEqual(10);
    expect(v2).toBeLessThanOrEqual(60);

    // The proxies' access log saw the same split: every request through the gateway and the
    // frontend's sidecar, each routed to the subset whose version the chart counted it under, and
    // v2's share answered by v2's only pod through its own sidecar.
    await gatewayLogged(before.gateway + REQUESTS);
    expect({
      gateway: count(gatewayLines) - before.gateway,
      v1: count(routedTo('v1')) - before.v1,
      v2: count(routedTo('v2')) - before.v2,
      servedByV2: count(servedByV2) - before.servedByV2,
    }).toEqual({ gateway: REQUESTS, v1, v2, servedByV2: v2 });
    expect(count({ ...gatewayLines, response_code: 200 })).toBe(count(gatewayLines));

    expect(problems.errorResponses).toEqual([]);
    expect(problems.consoleErrors).toEqual([]);
    expect(problems.pageErrors).toEqual([]);
    expect(problems.failedRequests).toEqual([]);
    await page.close();
  }, 180_000);

  it('lists a trace through the gateway by the request the frontend saw, and the proxy it came through', async () => {
    const { page, problems } = await openPage(browser.context, `${stack.url('frontend')}/#traces`, 1280, 900);
    await page.locator('body[data-ready="true"]').waitFor();
    const row = page.locator('#traces-rows tr', { hasText: 'frontend: GET /api/version' }).first();
    // The panel's requests above are in the store by now, or will be at a later refresh.
    for (let attempt = 0; !(await row.count()) && attempt < 20; attempt += 1) {
      await page.getByRole('button', { name: 'Refresh' }).click();
      await page.waitForTimeout(500);
    }
    await expect(row.locator('.trace-via').textContent()).resolves.toBe(
      'via istio-ingressgateway.istio-system',
    );
    expect(problems.consoleErrors).toEqual([]);
    expect(problems.pageErrors).toEqual([]);
    await page.close();
  }, 60_000);
});
