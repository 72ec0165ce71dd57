/// <reference lib="dom" />
// The page's Traces view in headless Chromium against the local stack as `npm start` runs it: the
// services export to the launcher's trace store, the page reads it through the frontend's relay.
import path from 'node:path';
import type { Page } from 'playwright-core';
import type { Stack } from '../../local/src';
import { startTestStack } from '../support/stack';
import {
  launchBrowser,
  type TestBrowser,
  openPage,
  type PageProblems,
  sampleImage,
  SCREENSHOTS,
} from './browser';

/** Spans reach the store in batches; the view is read until it shows what was asked, within this. */
const DEADLINE_MS = 30_000;

function expectNoProblems(problems: PageProblems): void {
  expect(problems.pageErrors).toEqual([]);
  expect(problems.consoleErrors).toEqual([]);
  expect(problems.failedRequests).toEqual([]);
}

/** The waterfall's rows as text: indented label (depth), service, and whether from a linked trace. */
const waterfallRows = (page: Page) =>
  page.locator('#waterfall > li').evaluateAll((rows) =>
    rows.map((row) => {
      const item = row as HTMLElement;
      return {
        label: item.querySelector('.span-label')?.textContent ?? '',
        depth: Number(item.style.getPropertyValue('--depth')),
        linked: item.dataset.linked !== undefined,
        offset: parseFloat(
          item.querySelector<HTMLElement>('.span-track')?.style.getPropertyValue('--offset') ?? '',
        ),
      };
    }),
  );

/** Waits until the opened trace is drawn (the view retries while its spans are on their way). */
async function openedWaterfall(page: Page) {
  await page.locator('body[data-ready="true"]').waitFor();
  await page.locator('#waterfall > li').first().waitFor({ timeout: DEADLINE_MS });
  await page.locator('#trace-status:empty').waitFor({ state: 'attached' });
  return waterfallRows(page);
}

describe('the Traces view in headless Chromium (local stack with its trace store)', () => {
  let stack: Stack;
  let frontend: string;
  let browser: TestBrowser;

  beforeAll(async () => {
    stack = await startTestStack({ traceStorePort: 0, env: { OTEL_BSP_SCHEDULE_DELAY: '200' } });
    frontend = stack.url('frontend');
    browser = await launchBrowser('traces-view');
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it("lists the brief's 20 requests and shows frontend -> backend -> DynamoDB as one waterfall, keyboard included", async () => {
    for (let i = 0; i < 20; i++) expect((await fetch(`${frontend}/api/products`)).status).toBe(200);
    const { page, problems } = await openPage(browser.context, `${frontend}/#traces`, 1280, 900);
    const row = page.locator('#traces-rows tr', { hasText: 'frontend: GET /api/products' }).first();
    // Refresh until the batch with those spans has reached the store.
    const deadline = Date.now() + DEADLINE_MS;
    while (!(await row.isVisible()) && Date.now() < deadline) {
      await page.getByRole('button', { name: 'Refresh' }).click();
      await page.locator('#traces-status:empty').waitFor({ state: 'attached' });
    }
    await expect(row.locator('td').nth(2).textContent()).resolves.toBe('4');
    await expect(row.locator('td').nth(3).textContent()).resolves.toBe('0');

    // Open it from the keyboard: Tab to the link, Enter.
    await row.getByRole('link').focus();
    await page.keyboard.press('Enter');
    await page.locator('#waterfall > li').nth(3).waitFor({ timeout: DEADLINE_MS });
    expect(page.url()).toMatch(/#trace\/[0-9a-f]{32}$/);
    const rows = await waterfallRows(page);
    expect(rows.map((r) => [r.label, r.depth])).toEqual([
      ['frontend: GET /api/products', 0],
      ['frontend: GET', 1],
      ['backend: GET /products', 2],
      ['backend: DynamoDB.Query', 3],
    ]);
    // One time axis: each span starts no earlier than its parent.
    expect(rows.map((r) => r.offset)).toEqual([...rows.map((r) => r.offset)].sort((a, b) => a - b));
    await expect(page.locator('#trace-legend li').allTextContents()).resolves.toEqual([
      'frontend',
      'backend',
    ]);
    await expect(page.locator('#trace-meta').textContent()).resolves.toMatch(/· 4 spans · 0 errors$/);

    // Arrow keys walk the spans; Enter shows the selected span's attributes.
    await page.locator('#waterfall button').first().focus();
    for (let i = 0; i < 3; i++) await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    const detail = page.locator('#span-detail');
    await detail.waitFor();
    await expect(detail.locator('h4').textContent()).resolves.toBe('backend: DynamoDB.Query');
    await expect(detail.locator('tr', { hasText: 'rpc.method' }).locator('td').textContent()).resolves.toBe(
      'Query',
    );
    await expect(page.locator('#waterfall button[aria-pressed="true"]').count()).resolves.toBe(1);
    await page.screenshot({ path: path.join(SCREENSHOTS, 'traces-waterfall-1280.png'), fullPage: true });

    // Back to the list.
    await page.getByRole('link', { name: 'All traces' }).click();
    await page.locator('#traces-list').waitFor();
    expectNoProblems(problems);
    await page.close();
  }, 120_000);

  it("follows the upload's links: upload -> object-store event -> thumbnail in one waterfall, opened from the page's own trace link", async () => {
    const { page, problems } = await openPage(browser.context, frontend, 1280, 900);
    await page.locator('#upload-file').setInputFiles({
      name: 'traced photo.png',
      mimeType: 'image/png',
      buffer: await sampleImage(800, 600),
    });
    await page.getByRole('button', { name: 'Upload' }).click();
    const link = page.locator('#upload-status a.trace-link');
    await link.waitFor();
    // Without JAEGER_UI_URL, the link opens the page's own view.
    expect(await link.getAttribute('href')).toMatch(/^#trace\/[0-9a-f]{32}$/);
    expect(await link.getAttribute('target')).toBeNull();
    await page.locator('.tile[data-state="ready"]').waitFor({ timeout: DEADLINE_MS });

    // The thumbnail's span and the linked event delivery arrive after the upload's own spans.
    await link.click();
    const deadline = Date.now() + DEADLINE_MS;
    let rows = await openedWaterfall(page);
    while (!rows.some((r) => r.linked) && Date.now() < deadline) {
      await page.reload();
      rows = await openedWaterfall(page);
    }
    const labels = rows.map((r) => r.label);
    expect(labels[0]).toBe('frontend: POST /api/images');
    const thumbnail = rows.findIndex((r) => r.label === 'thumbnailer: create thumbnail');
    expect(thumbnail).toBeGreaterThan(0);
    const event = rows.findIndex((r) => r.linked && r.label === '↪ thumbnailer: POST /events');
    expect(event).toBeGreaterThan(thumbnail);
    expect(rows[event]?.depth).toBe((rows[thumbnail]?.depth ?? 0) + 1);
    await expect(page.locator('#trace-meta').textContent()).resolves.toMatch(/from 1 linked trace/);
    await page
      .locator('#traces')
      .screenshot({ path: path.join(SCREENSHOTS, 'traces-upload-story-1280.png') });
    expect(problems.pageErrors).toEqual([]);
    await page.close();
  }, 120_000);

  it('fits a 375 px wide phone screen', async () => {
    const traceId = (await fetch(`${frontend}/api/products`)).headers.get('traceresponse')?.split('-')[1];
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    // The list: every figure in view, labelled, none behind a sideways scroll; still a table to a screen reader.
    const list = await openPage(browser.context, `${frontend}/#traces`, 375, 812);
    const first = list.page.locator('#traces-rows tr').first();
    await first.waitFor({ timeout: DEADLINE_MS });
    await list.page.locator('#traces').screenshot({ path: path.join(SCREENSHOTS, 'traces-list-375.png') });
    await expect(
      list.page
        .locator('#traces .table-wrap')
        .evaluate((element) => element.scrollWidth - element.clientWidth),
    ).resolves.toBeLessThanOrEqual(0);
    // Each figure shows its column's name before it (a ::before the screen reader has from the header).
    await expect(
      first
        .locator('td')
        .evaluateAll((cells) => cells.map((cell) => getComputedStyle(cell, '::before').content)),
    ).resolves.toEqual(['none', '"Duration: "', '"Spans: "', '"Errors: "', '"Started: "']);
    await expect(
      list.page.getByRole('table', { name: 'Newest traces' }).getByRole('cell').count(),
    ).resolves.toBeGreaterThan(0);
    expectNoProblems(list.problems);
    await list.page.close();

    const { page, problems } = await openPage(browser.context, `${frontend}/#trace/${traceId}`, 375, 812);
    await openedWaterfall(page);
    await page.locator('#waterfall button').last().click();
    await page.locator('#span-detail').waitFor();
    await expect(page.evaluate(() => document.documentElement.scrollWidth)).resolves.toBeLessThanOrEqual(375);
    // Cut labels show whole under the pointer; a dotted attribute key wraps after a dot, if anywhere.
    const labels = await page
      .locator('.span-label')
      .evaluateAll((spans) => spans.map((span) => [span.textContent, (span as HTMLElement).title]));
    expect(labels.length).toBeGreaterThan(0);
    for (const [text, title] of labels) expect(title).toBe(text);
    const keys = await page
      .locator('#span-detail .tag-table th')
      .evaluateAll((cells) =>
        cells.map((cell) => ({ key: cell.textContent ?? '', breaks: cell.querySelectorAll('wbr').length })),
      );
    expect(keys.some((key) => key.key === 'http.response.status_code')).toBe(true);
    for (const { key, breaks } of keys) expect(breaks).toBe(key.split('.').length - 1);
    await page.locator('#traces').screenshot({ path: path.join(SCREENSHOTS, 'traces-waterfall-375.png') });
    expectNoProblems(problems);
    await page.close();
  }, 120_000);
});
