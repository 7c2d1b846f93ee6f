/**
 * `npx tsx bench/compare/merge-latest.ts [seconds]`: puts the comparison run saved in reports/compare/compare.json into
 * reports/latest.json and latest.md (replacing that suite's entry, keeping the others), for a compare run whose
 * runner was stopped before it wrote them (the runner writes latest.* only once every suite it ran is done).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { toResults } from '../compare.bench.js';
import { markdown, type SuiteReport } from '../run.js';
import type { Figure } from './figures.js';

const reports = fileURLToPath(new URL('../../reports/', import.meta.url));
const saved = JSON.parse(readFileSync(`${reports}compare/compare.json`, 'utf8')) as { environment: { date: string; gitCommit: string; loadAverage: { start: number } }; figures: Figure[] };
const latest = JSON.parse(readFileSync(`${reports}latest.json`, 'utf8')) as { suites: SuiteReport[] };
const previous = latest.suites.find((s) => s.suite === 'compareSuite');
if (previous === undefined) throw new Error('latest.json has no compareSuite entry to replace');
const entry: SuiteReport = {
  ...previous,
  // The run's length is not in compare.json: pass it (seconds) as the first argument.
  seconds: process.argv[2] === undefined ? previous.seconds : Number(process.argv[2]),
  results: toResults(saved.figures),
  environment: { ...previous.environment, date: saved.environment.date, gitCommit: saved.environment.gitCommit.slice(0, 7), loadAverage1m: saved.environment.loadAverage.start },
};
const suites = latest.suites.map((s) => (s.suite === 'compareSuite' ? entry : s));
writeFileSync(`${reports}latest.json`, `${JSON.stringify({ suites }, null, 2)}\n`);
writeFileSync(`${reports}latest.md`, markdown(suites, reports));
process.stdout.write(`merged ${entry.results.length} compare results from ${saved.environment.date}\n`);
