/// <reference lib="dom" />
// The comparison report in a real browser (Debian's Chromium, headless): it must be readable on a
// phone, 375 px wide, without the page scrolling sideways, with every chart drawn.
import fs from 'node:fs';
import path from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { type CompareResults, costSection, renderHtml } from '../src/compare-report';
import { DEFAULT_PRICES } from '../src/prices';
import { measurements, settings } from './fixtures';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SCREENSHOTS = path.join(__dirname, '..', '..', 'reports', 'screenshots');
const CHART_JS = fs.readFileSync(
  path.join(path.dirname(require.resolve('chart.js')), 'chart.umd.min.js'),
  'utf8',
);

function report(quick: boolean): CompareResults {
  const measured = measurements({ settings: { ...settings, quick } });
  return {
    ...measured,
    cost: costSection(measured, DEFAULT_PRICES),
    notes: [
      'A long note naming a URL with no place to break: https://aws.amazon.com/api-gateway/pricing/#REST_APIs_and_more',
    ],
  };
}

describe('the comparison report in headless Chromium', () => {
  let browser: Browser;

  beforeAll(async () => {
    if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium`);
    fs.mkdirSync(SCREENSHOTS, { recursive: true });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run'],
    });
  }, 60_000);

  afterAll(() => browser?.close());

  it.each([
    [375, 'compare-report-375.png'],
    [1280, 'compare-report-1280.png'],
  ])(
    'fits %i px without scrolling sideways, its charts drawn',
    async (width, screenshot) => {
      const page = await browser.newPage({ viewport: { width, height: 900 } });
      const errors: string[] = [];
      page.on('pageerror', (err) => errors.push(err.message));
      try {
        await page.setContent(renderHtml(report(true), CHART_JS), { waitUntil: 'load' });
        await page.waitForSelector('body[data-rendered="true"]', { timeout: 20_000 });
        const layout = await page.evaluate(() => ({
          scrollWidth: document.documentElement.scrollWidth,
          clientWidth: document.documentElement.clientWidth,
          charts: [...document.querySelectorAll('canvas')].map((canvas) => ({
            id: canvas.id,
            width: canvas.getBoundingClientRect().width,
          })),
          smoke: document.getElementById('smoke-run')?.textContent ?? '',
        }));
        await page.screenshot({ path: path.join(SCREENSHOTS, screenshot), fullPage: true });
        expect(errors).toEqual([]);
        expect(layout.clientWidth).toBe(width);
        expect(layout.scrollWidth).toBeLessThanOrEqual(width);
        expect(layout.charts.map((chart) => chart.id).sort()).toEqual(
          [
            'cold-start',
            'cost',
            'lambda-cost',
            'products-latency',
            'products-throughput',
            'thumbnails-latency',
            'thumbnails-throughput',
          ].sort(),
        );
        for (const chart of layout.charts) {
          expect({ id: chart.id, drawn: chart.width > 100 && chart.width <= width }).toEqual({
            id: chart.id,
            drawn: true,
          });
        }
        expect(layout.smoke).toContain('A smoke run');
      } finally {
        await page.close();
      }
    },
    60_000,
  );
});
