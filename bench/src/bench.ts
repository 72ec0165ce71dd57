// npm run bench: what tracing, high concurrency, the Lambda bundles, the event pipeline and the local
// data plane's sidecars cost on this machine, each target against a baseline measured in the same run.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { benchMarkdown, evaluateTargets } from './bench-report';
import { main, REPOSITORY_ROOT } from './suite';

main({
  kind: 'bench',
  description:
    'Measures on this machine, each target against a baseline from the same run, and writes\n' +
    'reports/bench/results.json and results.md.',
  scenarios: ['tracing', 'concurrency', 'cold-start', 'thumbnails', 'sidecars'],
  async report(results, _cleanup, log) {
    const targets = evaluateTargets(results);
    const outDir = path.join(REPOSITORY_ROOT, 'reports', 'bench');
    await mkdir(outDir, { recursive: true });
    const markdown = benchMarkdown(results, targets);
    await writeFile(
      path.join(outDir, 'results.json'),
      `${JSON.stringify({ ...results, targets }, null, 2)}\n`,
    );
    await writeFile(path.join(outDir, 'results.md'), markdown);
    log(`\n${markdown}`);
    for (const check of targets) log(`${check.met ? 'MET   ' : 'MISSED'}  ${check.goal}: ${check.measured}`);
    if (results.settings.quick) log('(a smoke run: these figures mean little)');
    log(`\nWritten: ${path.relative(process.cwd(), outDir)}/results.json and results.md`);
  },
});
