/**
 * Re-renders a saved comparison (compare.md and the charts) from its compare.json, without measuring again:
 * `node --import tsx bench/compare/render.ts [reports/compare]`.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { writeCompareReport } from '../compare.bench.js';
import type { Figure } from './figures.js';
import type { Environment } from './report.js';

const dir = resolve(process.argv[2] ?? 'reports/compare');
const saved = JSON.parse(readFileSync(`${dir}/compare.json`, 'utf8')) as { environment: Environment; figures: Figure[] };
writeCompareReport(`${dir}/`, saved.environment, saved.figures);
process.stderr.write(`re-rendered ${dir}/compare.md\n`);
