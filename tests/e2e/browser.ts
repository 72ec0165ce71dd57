/// <reference lib="dom" />
// Headless Chromium for the page's tests: launch, open a page, watch what goes wrong in it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type BrowserContext, chromium, type Page, type Request } from 'playwright-core';
import sharp from 'sharp';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
];
export const SCREENSHOTS = path.join(__dirname, '..', '..', 'reports', 'screenshots');

/** What went wrong in the browser while a page was open. */
export interface PageProblems {
  consoleErrors: Array<{ text: string; url: string }>;
  pageErrors: string[];
  failedRequests: string[];
  errorResponses: string[];
  /** The most /api/version requests in flight at once. */
  maxVersionRequestsInFlight: number;
  versionRequests: number;
}

function watch(page: Page): PageProblems {
  const problems: PageProblems = {
    consoleErrors: [],
    pageErrors: [],
    failedRequests: [],
    errorResponses: [],
    maxVersionRequestsInFlight: 0,
    versionRequests: 0,
  };
  let inFlight = 0;
  page.on('console', (message) => {
    if (message.type() === 'error')
      problems.consoleErrors.push({ text: message.text(), url: message.location().url });
  });
  page.on('pageerror', (error) => problems.pageErrors.push(error.message));
  page.on('requestfailed', (request) =>
    problems.failedRequests.push(`${request.method()} ${request.url()}: ${request.failure()?.errorText}`),
  );
  page.on('response', (response) => {
    if (response.status() >= 400)
      problems.errorResponses.push(
        `${response.request().method()} ${new URL(response.url()).pathname} ${response.status()}`,
      );
  });
  const isVersion = (url: string) => new URL(url).pathname === '/api/version';
  page.on('request', (request) => {
    if (!isVersion(request.url())) return;
    problems.versionRequests++;
    problems.maxVersionRequestsInFlight = Math.max(problems.maxVersionRequestsInFlight, ++inFlight);
  });
  const settled = (request: Request) => {
    if (isVersion(request.url())) inFlight--;
  };
  page.on('requestfinished', settled);
  page.on('requestfailed', settled);
  return problems;
}

/** A photo-like test image: sharp renders an SVG scene to PNG. */
export async function sampleImage(width: number, height: number): Promise<Buffer> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
    <defs><linearGradient id="sky" x1="0" y1="0" x2="0" y2="1">
      <stop offset="0" stop-color="#1e3a8a"/><stop offset="1" stop-color="#f97316"/></linearGradient></defs>
    <rect width="100%" height="100%" fill="url(#sky)"/>
    <circle cx="${width * 0.65}" cy="${height * 0.55}" r="${height * 0.18}" fill="#fde047"/>
    <rect y="${height * 0.7}" width="100%" height="${height * 0.3}" fill="#14532d"/>
  </svg>`;
  return sharp(Buffer.from(svg)).png().toBuffer();
}

/** What the page's canary chart (Chart.js, `#canary-chart`) shows: its bars, their colours, its accessible label. */
export interface CanaryChart {
  labels: string[];
  data: number[];
  colors: string[];
  label: string | null;
}

/** Reads the canary chart from the Chart.js instance the page drew it with. */
export function readCanaryChart(page: Page): Promise<CanaryChart> {
  return page.evaluate(() => {
    const canvas = document.getElementById('canary-chart') as HTMLCanvasElement;
    const { Chart } = window as unknown as {
      Chart: {
        getChart(canvas: HTMLCanvasElement): {
          data: { labels: string[]; datasets: Array<{ data: number[]; backgroundColor: string[] }> };
        };
      };
    };
    const { data } = Chart.getChart(canvas);
    return {
      labels: data.labels,
      data: data.datasets[0]?.data ?? [],
      colors: data.datasets[0]?.backgroundColor ?? [],
      label: canvas.getAttribute('aria-label'),
    };
  });
}

export async function openPage(context: BrowserContext, url: string, width: number, height: number) {
  const page = await context.newPage();
  await page.setViewportSize({ width, height });
  const problems = watch(page);
  await page.goto(url);
  await page.locator('body[data-ready="true"]').waitFor();
  return { page, problems };
}

/** A headless browser for one test file; `close` ends it and removes its profile. */
export interface TestBrowser {
  context: BrowserContext;
  close(): Promise<void>;
}

/** Debian's Chromium (or CHROMIUM_PATH), headless, with a fresh profile; screenshots' folder made. */
export async function launchBrowser(name: string): Promise<TestBrowser> {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium`);
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), `${name}-chromium-`));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_FLAGS,
  });
  return {
    context,
    close: async () => {
      await context.close();
      fs.rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}
