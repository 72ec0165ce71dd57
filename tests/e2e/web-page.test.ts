/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// The web page in a real browser (Debian's Chromium, headless) against the real local stack: every
// service a child process, dynalite, s3rver, sharp, and an OTLP receiver standing in for Jaeger.
import path from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import sharp from 'sharp';
import { createS3Client } from '@twin/thumbnails';
import { ServiceProcess, type Stack } from '../../local/src';
import { S3RVER_CREDENTIALS } from '../../local/src/object-store';
import { startTestStack } from '../support/stack';
import { type ReceivedSpan, startOtlpReceiver } from '../support/otlp-receiver';
import {
  launchBrowser,
  readCanaryChart,
  type TestBrowser,
  openPage,
  sampleImage,
  SCREENSHOTS,
} from './browser';

const JAEGER_UI_URL = 'http://localhost:16686';
const SERVER = 2;

describe('the web page in headless Chromium (real local stack)', () => {
  let receiver: Awaited<ReturnType<typeof startOtlpReceiver>>;
  let stack: Stack;
  let frontend: string;
  let browser: TestBrowser;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    stack = await startTestStack({
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
        OTEL_BSP_SCHEDULE_DELAY: '100',
        JAEGER_UI_URL,
      },
    });
    frontend = stack.url('frontend');
    browser = await launchBrowser('web-page');
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
    await receiver?.close();
  });

  it("serves the page with no inline script or style under helmet's CSP, and Chart.js itself", async () => {
    const response = await fetch(`${frontend}/`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    expect(response.headers.get('content-security-policy')).toContain("script-src 'self'");
    const html = await response.text();
    expect(html).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/);
    expect(html).not.toMatch(/<style|\sstyle=|\son[a-z]+=/i);
    const chartJs = await fetch(`${frontend}/vendor/chart.umd.min.js`);
    expect([chartJs.status, chartJs.headers.get('content-type')]).toEqual([
      200,
      expect.stringMatching(/javascript/),
    ]);
    expect(await chartJs.text()).toContain('Chart.js v4');
    expect(await (await fetch(`${frontend}/api/config`)).json()).toEqual({
      jaeger: { url: JAEGER_UI_URL, service: 'frontend' },
      traces: null,
    });
  });

  it('creates a product, uploads an image, shows its thumbnail and draws the canary split (1280 px)', async () => {
    const { page, problems } = await openPage(browser.context, frontend, 1280, 900);

    // Which backend answered, and where the traces are.
    await expect(page.locator('#version-value').textContent()).resolves.toBe('1.0.0');
    await expect(page.getByRole('link', { name: 'Traces in Jaeger' }).getAttribute('href')).resolves.toBe(
      `${JAEGER_UI_URL}/search?service=frontend`,
    );

    // A negative price: the API's message appears beside the price field, by keyboard alone.
    const price = page.getByLabel('Price', { exact: true });
    const focusedId = () =>
      page.evaluate(() => document.activeElement?.id || document.activeElement?.textContent);
    await page.keyboard.press('Tab');
    await expect(focusedId()).resolves.toBe('Skip to content');
    await page.keyboard.press('Enter');
    await page.keyboard.press('Tab');
    await expect(focusedId()).resolves.toBe('product-name');
    await page.keyboard.type('Laptop');
    await page.keyboard.press('Tab');
    await expect(focusedId()).resolves.toBe('product-price');
    await page.keyboard.type('-1');
    await page.keyboard.press('Enter');
    const priceError = page.locator('#product-price-error');
    await priceError.waitFor();
    await expect(priceError.textContent()).resolves.toBe('Must not be negative');
    await expect(price.getAttribute('aria-invalid')).resolves.toBe('true');
    await expect(page.locator('#product-name-error').isHidden()).resolves.toBe(true);
    await expect(focusedId()).resolves.toBe('product-price');
    await page.screenshot({ path: path.join(SCREENSHOTS, 'web-page-validation-error.png'), fullPage: true });

    // Corrected: the product is listed, and the status links to the request's trace in Jaeger.
    await price.fill('999.99');
    await page.getByRole('button', { name: 'Add product' }).click();
    const status = page.locator('#product-status');
    await status.getByText('Added “Laptop”.').waitFor();
    await expect(priceError.isHidden()).resolves.toBe(true);
    const row = page.locator('#product-rows tr', { hasText: 'Laptop' });
    await expect(row.locator('td').allTextContents()).resolves.toEqual([
      'Laptop',
      '999.99',
      expect.any(String),
    ]);
    const traceLink = status.getByRole('link', { name: /Trace of this request in Jaeger/ });
    const href = (await traceLink.getAttribute('href')) ?? '';
    const traceId = /\/trace\/([0-9a-f]{32})$/.exec(href)?.[1];
    expect(href.startsWith(`${JAEGER_UI_URL}/trace/`)).toBe(true);
    // The traceresponse header named the frontend's own server span of that POST.
    const server = await receiver.waitFor((spans: ReceivedSpan[]) =>
      spans.find((s) => s.traceId === traceId && s.service === 'frontend' && s.kind === SERVER),
    );
    expect(server.attributes['http.method'] ?? server.attributes['http.request.method']).toBe('POST');

    // An image: pending, then its 200x200 thumbnail.
    await page.evaluate(() => {
      const states: string[] = [];
      (window as unknown as { tileStates: string[] }).tileStates = states;
      new MutationObserver((records) => {
        for (const record of records) {
          const target = record.target as HTMLElement;
          if (record.type === 'attributes' && target.classList.contains('tile'))
            states.push(target.dataset.state ?? '');
          for (const node of record.addedNodes)
            if (node instanceof HTMLElement && node.classList.contains('tile'))
              states.push(node.dataset.state ?? '');
        }
      }).observe(document.getElementById('gallery') as HTMLElement, {
        subtree: true,
        childList: true,
        attributes: true,
        attributeFilter: ['data-state'],
      });
    });
    await page.getByLabel('Image (JPEG, PNG, WebP, GIF, AVIF or TIFF)', { exact: true }).setInputFiles({
      name: 'sunset ñ.png',
      mimeType: 'image/png',
      buffer: await sampleImage(1200, 800),
    });
    await page.getByRole('button', { name: 'Upload' }).click();
    await page.locator('#upload-status').getByText('Uploaded “sunset ñ.png”').waitFor();
    const thumbnail = page.getByRole('img', { name: 'Thumbnail of sunset ñ.png (opens the full image)' });
    await thumbnail.waitFor({ timeout: 10_000 });
    await page.waitForFunction(
      () => (document.querySelector('.tile[data-state="ready"] img') as HTMLImageElement | null)?.complete,
    );
    await expect(
      thumbnail.evaluate((img: HTMLImageElement) => [img.naturalWidth, img.naturalHeight]),
    ).resolves.toEqual([200, 200]);
    await expect(
      page.evaluate(() => (window as unknown as { tileStates: string[] }).tileStates),
    ).resolves.toEqual(['pending', 'ready']);
    await expect(page.locator('#gallery-status').textContent()).resolves.toBe(
      'The thumbnail of “sunset ñ.png” is ready.',
    );

    // The canary panel: 100 requests, bounded, all answered by v1 here.
    const versionRequestsBefore = problems.versionRequests;
    await page.getByLabel('Requests').fill('100');
    await page.getByRole('button', { name: 'Run' }).click();
    await page
      .locator('#canary-status')
      .getByText(/^100 answers in [\d.]+ s: 1\.0\.0 100%\.$/)
      .waitFor({ timeout: 30_000 });
    expect(problems.versionRequests - versionRequestsBefore).toBe(100);
    expect(problems.maxVersionRequestsInFlight).toBeGreaterThan(1);
    expect(problems.maxVersionRequestsInFlight).toBeLessThanOrEqual(6);
    await expect(page.locator('#canary-rows tr').allInnerTexts()).resolves.toEqual([
      expect.stringMatching(/^1\.0\.0\s+100\s+100%\s+trace/),
    ]);
    const chart = await readCanaryChart(page);
    expect({ labels: chart.labels, data: chart.data, label: chart.label }).toEqual({
      labels: ['1.0.0'],
      data: [100],
      label: 'Answers by version: 1.0.0: 100 (100%)',
    });
    await expect(
      page.locator('#canary-progress').evaluate((p: HTMLProgressElement) => [p.value, p.max]),
    ).resolves.toEqual([100, 100]);
    await page.screenshot({ path: path.join(SCREENSHOTS, 'web-page-1280.png'), fullPage: true });

    // Only the deliberately invalid product failed, and the browser said nothing else.
    expect(problems.errorResponses).toEqual(['POST /api/products 400']);
    // Chromium logs every 4xx/5xx fetch as a console error: that one, and nothing else.
    expect(problems.consoleErrors).toEqual([
      {
        text: 'Failed to load resource: the server responded with a status of 400 (Bad Request)',
        url: `${frontend}/api/products`,
      },
    ]);
    expect(problems.pageErrors).toEqual([]);
    expect(problems.failedRequests).toEqual([]);
    await page.close();
  }, 90_000);

  it('labels a failed thumbnail failed, pages the gallery, and shows an object put straight into the bucket', async () => {
    // What `aws s3 cp photo.jpg s3://images/uploads/photo.jpg` does: one PutObject, nothing from the frontend.
    const s3 = createS3Client({
      endpoint: stack.endpoints.find((e) => e.name === 's3')?.url,
      region: 'us-east-1',
      credentials: S3RVER_CREDENTIALS,
    });
    const photo = await sharp(await sampleImage(640, 480))
      .jpeg()
      .toBuffer();
    await s3.send(
      new PutObjectCommand({
        Bucket: 'images',
        Key: 'uploads/photo.jpg',
        Body: photo,
        ContentType: 'image/jpeg',
      }),
    );
    s3.destroy();
    // More uploads than one page of the gallery holds.
    for (let i = 0; i < 8; i += 1) {
      const form = new FormData();
      form.append('file', new Blob([new Uint8Array(await sampleImage(300 + i, 200))]), `batch ${i}.png`);
      expect((await fetch(`${frontend}/api/images`, { method: 'POST', body: form })).status).toBe(201);
    }

    const { page, problems } = await openPage(browser.context, frontend, 1280, 900);
    const apiImagesRequests: number[] = [];
    page.on('request', (request) => {
      if (new URL(request.url()).pathname === '/api/images' && request.method() === 'GET')
        apiImagesRequests.push(Date.now());
    });
    // A JPEG cut off at 60%: its header is whole, so the upload is taken; its pixels are not.
    const whole = await sharp(await sampleImage(800, 600))
      .jpeg()
      .toBuffer();
    await page.getByLabel('Image (JPEG, PNG, WebP, GIF, AVIF or TIFF)', { exact: true }).setInputFiles({
      name: 'damaged.jpg',
      mimeType: 'image/jpeg',
      buffer: whole.subarray(0, Math.floor(whole.length * 0.6)),
    });
    await page.getByRole('button', { name: 'Upload' }).click();
    const failed = page.locator('.tile[data-state="failed"]', { hasText: 'damaged.jpg' });
    await failed.waitFor({ timeout: 15_000 });
    await expect(failed.locator('.tile-meta').textContent()).resolves.toMatch(/thumbnail failed$/);
    await expect(failed.locator('.tile-reason').textContent()).resolves.toMatch(/premature end of JPEG/i);
    await expect(page.locator('#gallery-status').textContent()).resolves.toMatch(
      /^No thumbnail for “damaged\.jpg”: image could not be decoded/,
    );
    // Once nothing on the page is pending, the gallery stops polling every second.
    await page.waitForFunction(
      () => document.querySelectorAll('.tile[data-state="pending"]').length === 0,
      null,
      {
        timeout: 15_000,
      },
    );
    await page.waitForTimeout(1500);
    const since = Date.now();
    await page.waitForTimeout(3000);
    expect(apiImagesRequests.filter((at) => at >= since).length).toBeLessThanOrEqual(1);

    // One page of 8, newest first, and a pager.
    await expect(page.locator('#gallery .tile').count()).resolves.toBe(8);
    await expect(page.locator('#gallery .tile').first().getAttribute('data-state')).resolves.toBe('failed');
    await expect(page.locator('#gallery-page').textContent()).resolves.toBe('Page 1');
    await expect(page.getByRole('button', { name: 'Newer' }).isDisabled()).resolves.toBe(true);
    await page.screenshot({ path: path.join(SCREENSHOTS, 'web-page-gallery-failed.png'), fullPage: true });
    // With the keyboard: the button pressed is disabled on the last page, and the focus stays in the pager.
    await page.getByRole('button', { name: 'Older' }).focus();
    await page.keyboard.press('Enter');
    await page.locator('#gallery-page', { hasText: 'Page 2' }).waitFor();
    await expect(page.evaluate(() => document.activeElement?.id)).resolves.toBe('gallery-newer');
    // The object written straight to the bucket, with the thumbnail its event made.
    const fromCli = page.getByRole('img', { name: 'Thumbnail of photo.jpg (opens the full image)' });
    await fromCli.waitFor({ timeout: 15_000 });
    await page.waitForFunction(
      () =>
        (
          document.querySelector(
            'img[alt="Thumbnail of photo.jpg (opens the full image)"]',
          ) as HTMLImageElement | null
        )?.complete,
    );
    await expect(
      fromCli.evaluate((img: HTMLImageElement) => [img.naturalWidth, img.naturalHeight]),
    ).resolves.toEqual([200, 200]);
    await expect(page.getByRole('button', { name: 'Older' }).isDisabled()).resolves.toBe(true);
    await page.keyboard.press('Enter');
    await page.locator('#gallery-page', { hasText: 'Page 1' }).waitFor();
    await expect(page.evaluate(() => document.activeElement?.id)).resolves.toBe('gallery-older');
    await page.locator('.tile[data-state="failed"]', { hasText: 'damaged.jpg' }).waitFor();

    expect(problems.errorResponses).toEqual([]);
    expect(problems.consoleErrors).toEqual([]);
    expect(problems.pageErrors).toEqual([]);
    expect(problems.failedRequests).toEqual([]);
    await page.close();
  }, 90_000);

  it('draws a v1/v2 split with failures apart, when a weighted route splits the traffic', async () => {
    // A real backend v2 on the same table; the split itself is a stand-in for the mesh's weighted
    // route (no Envoy here): page.route sends every 4th request to v2 and fails every 10th with the
    // 503 a sidecar answers when no upstream is healthy.
    const v2 = new ServiceProcess(
      {
        name: 'backend-v2',
        packageName: '@twin/backend',
        port: 0,
        env: {
          APP_VERSION: '2.0.0',
          TABLE_NAME: 'products',
          AWS_ENDPOINT_URL_DYNAMODB: stack.endpoints.find((e) => e.name === 'dynamodb')?.url ?? '',
          AWS_REGION: 'us-east-1',
          AWS_ACCESS_KEY_ID: 'local',
          AWS_SECRET_ACCESS_KEY: 'local',
          OTEL_TRACES_EXPORTER: 'none',
          LOG_LEVEL: 'warn',
        },
      },
      () => undefined,
    );
    await v2.start();
    try {
      const { page, problems } = await openPage(browser.context, frontend, 1280, 900);
      let n = 0;
      await page.route('**/api/version', async (route) => {
        n++;
        if (n % 10 === 0)
          return route.fulfill({ status: 503, contentType: 'text/plain', body: 'no healthy upstream' });
        if (n % 4 === 0) return route.fulfill({ response: await route.fetch({ url: `${v2.url}/version` }) });
        return route.continue();
      });
      await page.getByLabel('Requests').fill('40');
      await page.getByRole('button', { name: 'Run' }).click();
      // Of 40: 4 failed (10, 20, 30, 40), v2 took 4, 8, 12, 16, 24, 28, 32, 36 = 8, v1 the other 28.
      await page
        .locator('#canary-status')
        .getByText(/^40 answers in [\d.]+ s: 1\.0\.0 70%, 2\.0\.0 20%, HTTP 503 10%\.$/)
        .waitFor();
      await expect(
        page.locator('#canary-rows tr').evaluateAll((rows) => rows.map((r) => r.dataset.label)),
      ).resolves.toEqual(['1.0.0', '2.0.0', 'HTTP 503']);
      const chart = await readCanaryChart(page);
      expect(chart.labels).toEqual(['1.0.0', '2.0.0', 'HTTP 503']);
      expect(chart.data).toEqual([28, 8, 4]);
      expect(new Set(chart.colors).size).toBe(3);
      await page.locator('#canary').screenshot({ path: path.join(SCREENSHOTS, 'web-page-canary-split.png') });
      expect(problems.errorResponses).toEqual(Array(4).fill('GET /api/version 503'));
      expect(problems.consoleErrors.map((e) => e.text)).toEqual(
        Array(4).fill(
          'Failed to load resource: the server responded with a status of 503 (Service Unavailable)',
        ),
      );
      expect(problems.pageErrors).toEqual([]);
      expect(problems.failedRequests).toEqual([]);
      await page.close();
    } finally {
      await v2.stop();
    }
  }, 60_000);

  it('fits a 375 px wide phone screen', async () => {
    const { page, problems } = await openPage(browser.context, frontend, 375, 812);
    await page.locator('#product-rows tr', { hasText: 'Laptop' }).waitFor();
    await page.locator('.tile[data-state="ready"] img').first().waitFor();
    await page.getByLabel('Requests').fill('20');
    await page.getByRole('button', { name: 'Run' }).click();
    await page
      .locator('#canary-status')
      .getByText(/^20 answers in/)
      .waitFor();
    // Nothing wider than the screen: no sideways scrolling of the page.
    await expect(page.evaluate(() => document.documentElement.scrollWidth)).resolves.toBeLessThanOrEqual(375);
    for (const button of ['Add product', 'Upload', 'Run'])
      await expect(page.getByRole('button', { name: button }).isVisible()).resolves.toBe(true);
    await page.screenshot({ path: path.join(SCREENSHOTS, 'web-page-375.png'), fullPage: true });
    expect(problems.errorResponses).toEqual([]);
    expect(problems.consoleErrors).toEqual([]);
    expect(problems.pageErrors).toEqual([]);
    expect(problems.failedRequests).toEqual([]);
    await page.close();
  }, 60_000);
});
