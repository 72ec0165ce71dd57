// npm run compare: the same workloads through both twins, and what each would cost, as a
// self-contained HTML report (reports/compare/report.html) with the JSON behind it.
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { functionMemory } from './bundles';
import {
  type CompareMeasurements,
  type CompareResults,
  costSection,
  headlines,
  renderHtml,
} from './compare-report';
import { renderOverlay, workloadsFromManifests, type Workload } from './footprint';
import { describeMachine } from './machine';
import { loadPrices } from './prices';
import { main, REPOSITORY_ROOT } from './suite';

function notes(measured: CompareMeasurements): string[] {
  const lines = [
    `Everything ran on one machine (${describeMachine(measured.machine)}): load generator, services, ` +
      'dynalite, s3rver and the emulator shared its CPUs, and other work on it shows up in the figures. ' +
      'Compare the twins with each other; absolute figures say little about a cluster or about AWS.',
    'The Lambda side runs in an emulator: one execution environment (a Node process) per concurrent ' +
      'invocation, each with its cold start, as Lambda scales; but they all share this machine, and API ' +
      'Gateway itself adds latency the emulator does not (typically milliseconds to tens of milliseconds).',
    "The mesh's figures go through the local data plane: Node sidecars executing k8s/istio, an emulation " +
      'for learning and testing, all proxies in one process; they are not Envoy. What Envoy sidecars would ' +
      "add is modelled from Istio's published figures beside them, and the cost model counts the sidecars' " +
      'requests. The row without proxies is the same apps calling each other directly.',
    'Cold starts here exclude what the platforms add before the code runs: a Lambda sandbox and code ' +
      "download, a pod's scheduling and image pull.",
    `This machine runs Node ${process.version}; Lambda's runtime and the images use the Node the template and Dockerfiles name.`,
  ];
  const cold = measured.scenarios['cold-start'];
  if (cold) {
    lines.push(
      `The products durations billed are the warm invocations' median (${cold.productsWarm.p50} ms) ` +
        'against dynalite on loopback; DynamoDB over the network takes longer, so real bills are higher.',
    );
  }
  if (measured.scenarios.thumbnails) {
    lines.push(
      "The Lambda thumbnails path ran with the services at LOG_LEVEL=info, so that the emulator's invocation " +
        'lines give the durations S3 would bill; the thumbnailer path ran at warn.',
    );
  }
  if (measured.settings.quick)
    lines.unshift('A smoke run (--quick): one short round of everything; its figures mean little.');
  return lines;
}

main({
  kind: 'compare',
  description:
    'Runs the same workloads through both twins on this machine and writes reports/compare/report.html\n' +
    '(charts inlined, works offline) and report.json, with a cost model: Lambda + API Gateway from the\n' +
    "measured durations and the template's memory sizes, against the k8s overlay's resource requests with\n" +
    "Istio's sidecars on on-demand nodes.",
  scenarios: ['products', 'cold-start', 'burst', 'thumbnails'],
  check: (settings) => void loadPrices(settings.pricesFile),
  async report(results, _cleanup, log) {
    const prices = loadPrices(results.settings.pricesFile);
    let workloads: Workload[] | undefined;
    try {
      workloads = workloadsFromManifests(renderOverlay(REPOSITORY_ROOT, results.settings.overlay));
    } catch (err) {
      log(
        `(no mesh footprint: kubectl kustomize ${results.settings.overlay} failed: ${(err as Error).message.split('\n')[0]})`,
      );
    }
    const measured: CompareMeasurements = { ...results, memoryMb: functionMemory(), workloads };
    const report: CompareResults = {
      ...measured,
      cost: costSection(measured, prices),
      notes: notes(measured),
    };
    const outDir = path.join(REPOSITORY_ROOT, 'reports', 'compare');
    await mkdir(outDir, { recursive: true });
    const chartJs = readFileSync(
      path.join(path.dirname(require.resolve('chart.js')), 'chart.umd.min.js'),
      'utf8',
    );
    await writeFile(path.join(outDir, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
    await writeFile(path.join(outDir, 'report.html'), renderHtml(report, chartJs));
    log('');
    for (const line of headlines(report)) log(`- ${line}`);
    log(`\nWritten: ${path.relative(process.cwd(), outDir)}/report.html and report.json`);
  },
});
