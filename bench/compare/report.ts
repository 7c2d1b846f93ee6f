/**
 * Turns the comparison's figures into the Markdown report, the SVG scaling
 * charts and a JSON file with the raw figures and the environment.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import type { Axis, Figure } from './figures.js';
import { lineChart, shortNumber } from './svg.js';
import { SYSTEM_NAMES, type SystemName } from './system.js';

/** Where the run happened. */
export interface Environment {
  readonly node: string;
  readonly cpuModel: string;
  readonly cores: number;
  readonly date: string;
  readonly gitCommit: string;
  readonly mode: 'quick' | 'full';
  readonly libraries: Record<string, string>;
  /** 1-minute load average when the run started and ended: other processes on the machine skew the figures. */
  readonly loadAverage: { readonly start: number; readonly end: number };
}

/** Collects the environment of this run. */
export function environment(quick: boolean, libraries: Record<string, string>, loadAtStart: number): Environment {
  let gitCommit = 'unknown';
  try {
    gitCommit = execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src', 'bench'], { encoding: 'utf8' }).trim();
    if (dirty !== '') gitCommit += ' (with uncommitted changes in src/ or bench/)';
  } catch {
    // not a git checkout: say so in the report
  }
  return {
    node: process.version,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    date: new Date().toISOString(),
    gitCommit,
    mode: quick ? 'quick' : 'full',
    libraries,
    loadAverage: { start: loadAtStart, end: loadavg()[0] ?? 0 },
  };
}

/** True when bigger is better for this figure (throughput); false for bytes and memory. */
function higherIsBetter(figure: Figure): boolean {
  return figure.opsPerSecond !== undefined || figure.unit === 'ops/s';
}

function figureValue(figure: Figure): number | undefined {
  return figure.opsPerSecond ?? figure.value;
}

function cell(figure: Figure | undefined): string {
  if (figure === undefined) return '–';
  if (figure.skipped !== undefined) return 'skipped';
  if (figure.opsPerSecond !== undefined) {
    const best = `${shortNumber(figure.opsPerSecond)}/s (${shortNumber(figure.cpuMs ?? 0)} ms)`;
    if (figure.rounds === undefined || figure.rounds < 2 || figure.cpuMsMedian === undefined || figure.cpuMsMax === undefined) return best;
    // The spread over rounds: the median, and the slowest to the best.
    const rate = (ms: number): string => shortNumber((figure.ops * 1000) / ms);
    return `${best}; med ${rate(figure.cpuMsMedian)}, ${rate(figure.cpuMsMax)}–${rate(figure.cpuMs as number)}`;
  }
  return `${shortNumber(figure.value ?? 0)} ${figure.unit ?? ''}`.trim();
}

/** How many times better Tidelog is than `other` (> 1: Tidelog wins). */
export function ratio(tidelog: Figure | undefined, other: Figure | undefined): number | undefined {
  if (tidelog === undefined || other === undefined) return undefined;
  const t = figureValue(tidelog);
  const o = figureValue(other);
  if (t === undefined || o === undefined || t <= 0 || o <= 0) return undefined;
  return higherIsBetter(tidelog) ? t / o : o / t;
}

/** The same ratio at the median of each side's rounds, when both have several. */
export function medianRatio(tidelog: Figure | undefined, other: Figure | undefined): number | undefined {
  if (tidelog?.cpuMsMedian === undefined || other?.cpuMsMedian === undefined || (tidelog.rounds ?? 0) < 2 || (other.rounds ?? 0) < 2) return undefined;
  return other.cpuMsMedian / other.ops / (tidelog.cpuMsMedian / tidelog.ops);
}

function ratioText(r: number): string {
  return r >= 10 ? r.toFixed(0) : r >= 1 ? r.toFixed(2) : r.toFixed(3);
}

function ratioCell(r: number | undefined, med?: number): string {
  if (r === undefined) return '–';
  const text = ratioText(r);
  const shown = r >= 1 ? `**${text}×**` : `${text}×`;
  return med === undefined ? shown : `${shown} (med ${ratioText(med)}×)`;
}

const OTHERS = SYSTEM_NAMES.filter((name) => name !== 'tidelog');

function seriesKey(f: Figure): string {
  return `${f.group}|${f.metric}|${f.axis}`;
}

function bySeries(figures: readonly Figure[]): Map<string, Figure[]> {
  const out = new Map<string, Figure[]>();
  for (const f of figures) {
    if (f.system === 'machine') continue;
    const list = out.get(seriesKey(f)) ?? [];
    list.push(f);
    out.set(seriesKey(f), list);
  }
  return out;
}

function table(series: readonly Figure[], axis: Axis): string[] {
  const xs = [...new Set(series.map((f) => f.x))].sort((a, b) => a - b);
  const find = (system: SystemName, x: number): Figure | undefined => series.find((f) => f.system === system && f.x === x);
  const lines = [
    `| ${axis} | ${SYSTEM_NAMES.join(' | ')} | ${OTHERS.map((o) => `tidelog vs ${o}`).join(' | ')} |`,
    `| ---: | ${SYSTEM_NAMES.map(() => '---:').join(' | ')} | ${OTHERS.map(() => '---:').join(' | ')} |`,
  ];
  for (const x of xs) {
    const tl = find('tidelog', x);
    lines.push(`| ${shortNumber(x)} | ${SYSTEM_NAMES.map((s) => cell(find(s, x))).join(' | ')} | ${OTHERS.map((o) => ratioCell(ratio(tl, find(o, x)), medianRatio(tl, find(o, x)))).join(' | ')} |`);
  }
  return lines;
}

/** Per-op cost (ns) of a timed figure, or bytes of a size figure. */
function perOpCost(f: Figure): number | undefined {
  if (f.skipped !== undefined) return undefined;
  if (f.cpuMs !== undefined) return (f.cpuMs * 1e6) / f.ops;
  return undefined;
}

/** Flags series whose per-op time grows by more than `factorMax` from one size to the next. */
export function superlinearFlags(figures: readonly Figure[], factorMax = 2): string[] {
  const flags: string[] = [];
  for (const [key, series] of bySeries(figures)) {
    for (const system of SYSTEM_NAMES) {
      const points = series.filter((f) => f.system === system && perOpCost(f) !== undefined).sort((a, b) => a.x - b.x);
      for (let i = 1; i < points.length; i++) {
        const a = points[i - 1] as Figure;
        const b = points[i] as Figure;
        const growth = (perOpCost(b) as number) / (perOpCost(a) as number);
        if (growth <= factorMax) continue;
        const [group, metric, axis] = key.split('|');
        // A fixed-size operation (a 1,000-op delta) on a growing state: its cost should not depend on the state at all.
        const kind =
          a.ops === b.ops && axis === 'ops'
            ? 'cost grows with the size of the state it runs on'
            : axis === 'ops' || axis === 'clients'
              ? 'grows faster than linearly'
              : `per-op cost grows with ${axis}`;
        flags.push(
          `- **${system}**, ${group} ${metric}: ${kind}: per-op time ×${growth.toFixed(2)} from ${axis}=${shortNumber(a.x)} to ${shortNumber(b.x)} (${(perOpCost(a) as number).toFixed(0)} → ${(perOpCost(b) as number).toFixed(0)} ns/op)`,
        );
      }
    }
  }
  return flags;
}

/** Writes one SVG per series (per-op time or value vs the axis) and returns the file names by series key. */
function writeCharts(dir: string, figures: readonly Figure[]): Map<string, string> {
  const files = new Map<string, string>();
  for (const [key, series] of bySeries(figures)) {
    const xs = new Set(series.map((f) => f.x));
    if (xs.size < 2) continue;
    const [group, metric, axis] = key.split('|') as [string, string, string];
    const timed = series.some((f) => f.cpuMs !== undefined);
    const lines = SYSTEM_NAMES.map((system) => ({
      name: system,
      points: series
        .filter((f) => f.system === system && f.skipped === undefined)
        .sort((a, b) => a.x - b.x)
        .map((f) => [f.x, timed ? (perOpCost(f) ?? 0) : (f.value ?? 0)] as const),
    }));
    const unit = `${timed ? 'CPU ns per op' : (series.find((f) => f.unit !== undefined)?.unit ?? '')}, lower is better`;
    const file = `${group}-${metric.replace(/[^a-z0-9]+/gi, '-')}-by-${axis}.svg`.toLowerCase();
    writeFileSync(join(dir, file), lineChart({ title: `${group} ${metric} by ${axis}`, xLabel: axis, yLabel: unit, series: lines }));
    files.set(key, file);
  }
  return files;
}

/** For each workload series on the ops or clients axis: the figures at the largest size every system ran. */
export function headlineFigures(figures: readonly Figure[]): Map<string, { x: number; figures: Figure[] }> {
  const out = new Map<string, { x: number; figures: Figure[] }>();
  for (const [key, series] of bySeries(figures)) {
    const axis = key.split('|')[2];
    if (axis !== 'ops' && axis !== 'clients') continue;
    const xs = [...new Set(series.map((f) => f.x))].sort((a, b) => b - a);
    const x = xs.find((cand) => SYSTEM_NAMES.every((s) => series.some((f) => f.system === s && f.x === cand && f.skipped === undefined)));
    if (x !== undefined) out.set(key, { x, figures: series.filter((f) => f.x === x) });
  }
  return out;
}

/** Every headline figure where another system beats Tidelog, with the factor. */
function losses(figures: readonly Figure[]): string[] {
  const out: string[] = [];
  for (const [key, { x, figures: at }] of headlineFigures(figures)) {
    const [group, metric] = key.split('|');
    const tidelog = at.find((f) => f.system === 'tidelog');
    const beaten = OTHERS.map((o) => ({
      o,
      r: ratio(
        tidelog,
        at.find((f) => f.system === o),
      ),
    })).filter((e) => e.r !== undefined && e.r < 1);
    if (beaten.length === 0) continue;
    const worse = higherIsBetter(tidelog as Figure) ? 'slower' : 'larger';
    const med = (o: string): string => {
      const m = medianRatio(tidelog, at.find((f) => f.system === o));
      return m === undefined ? '' : ` (median of rounds: ${m < 1 ? `${(1 / m).toFixed(2)}× ${worse}` : `${m.toFixed(2)}× better`})`;
    };
    out.push(`- ${group} ${metric} at ${shortNumber(x)}: ${beaten.map((e) => `${(1 / (e.r as number)).toFixed(2)}× ${worse} than ${e.o}${med(e.o)}`).join(', ')}`);
  }
  return out.length > 0 ? [...out, '', 'Why, and where the time goes: [docs/benchmarks.md](../../docs/benchmarks.md).'] : ['Nowhere at the headline sizes.'];
}

function headline(figures: readonly Figure[]): string[] {
  const lines = [
    'Each workload at the largest size every system ran (the tables further down have every size, including 1M where Automerge was skipped).',
    '',
    `| workload | size | ${SYSTEM_NAMES.join(' | ')} | ${OTHERS.map((o) => `tidelog vs ${o}`).join(' | ')} |`,
    `| --- | ---: | ${SYSTEM_NAMES.map(() => '---:').join(' | ')} | ${OTHERS.map(() => '---:').join(' | ')} |`,
  ];
  for (const [key, { x, figures: at }] of headlineFigures(figures)) {
    const [group, metric] = key.split('|');
    const of = (s: SystemName): Figure | undefined => at.find((f) => f.system === s);
    lines.push(
      `| ${group} ${metric} | ${shortNumber(x)} | ${SYSTEM_NAMES.map((s) => cell(of(s))).join(' | ')} | ${OTHERS.map((o) => ratioCell(ratio(of('tidelog'), of(o)), medianRatio(of('tidelog'), of(o)))).join(' | ')} |`,
    );
  }
  return lines;
}

/** Writes `compare.md`, `compare.json` and the charts into `dir`; returns the Markdown. */
export function writeReport(dir: string, env: Environment, figures: readonly Figure[], extra: { readonly sections: readonly string[] }): string {
  mkdirSync(dir, { recursive: true });
  const charts = writeCharts(dir, figures);
  const md: string[] = [
    `# Tidelog vs Yjs, Automerge and Loro (${env.mode} run)`,
    '',
    `Node ${env.node} on ${env.cpuModel} (${env.cores} cores), ${env.date}, commit \`${env.gitCommit}\`.`,
    `Libraries: ${Object.values(env.libraries).join(', ')}.`,
    `Load average (1 min) ${env.loadAverage.start.toFixed(1)} at the start, ${env.loadAverage.end.toFixed(1)} at the end, on ${env.cores} cores: other processes shared the machine, so throughputs are per CPU-second of the best iteration.`,
    '',
    'Every figure comes from the same process run, the same workload code (`bench/compare/`) and the same data for every system,',
    'and every iteration is checked after it ran (final state holds the expected values), so a fast wrong answer fails the run.',
    'Ratios are **how many times better Tidelog is** (throughput: Tidelog ÷ other; bytes and memory: other ÷ Tidelog): above 1 Tidelog wins, below 1 it loses.',
    'Throughputs are **ops per CPU-second** of the best iteration (user + system CPU time of this process, all threads, so GC and JIT threads count),',
    'shown with that CPU time in ms: on a shared machine other processes stretch wall time but not CPU time. Wall times are in compare.json.',
    'Where a figure ran several iterations (rounds), the cell adds the spread: `med` is the median round and the range runs from the slowest round to the best; the ratio adds the median of rounds against the median (`med`). The per-call workload (a-per-call) runs in alternating rounds: every round runs every system once.',
    'A size is skipped for a system when its projected CPU time per iteration blows the run budget (the cell says so); CPU time, so that a loaded machine runs the sizes a quiet one does.',
    '',
    '## Headline',
    '',
    ...headline(figures),
    '',
  ];
  md.push('## Where Tidelog loses (headline sizes)', '', ...losses(figures), '');
  const flags = superlinearFlags(figures);
  md.push(
    '## Curves growing faster than linearly',
    '',
    'Flagged when the time per op more than doubles from one size to the next (linear scaling keeps it flat). On a loaded machine a single slow iteration can also trip this; sizes run once (1M) are the least certain.',
    '',
    flags.length > 0 ? flags.join('\n') : 'None.',
    '',
  );
  md.push(...extra.sections);
  for (const [key, series] of bySeries(figures)) {
    const [group, metric, axis] = key.split('|') as [string, string, Axis];
    md.push(`### ${group}: ${metric} by ${axis}`, '');
    const note = [...series].reverse().find((f) => f.note !== undefined)?.note;
    if (note !== undefined) md.push(`Measures (at the largest size): ${note}.`, '');
    md.push(...table(series, axis), '');
    const chart = charts.get(key);
    if (chart !== undefined) md.push(`![${group} ${metric}](${chart})`, '');
  }
  const text = `${md.join('\n')}\n`;
  writeFileSync(join(dir, 'compare.md'), text);
  writeFileSync(join(dir, 'compare.json'), `${JSON.stringify({ environment: env, figures }, null, 2)}\n`);
  return text;
}
