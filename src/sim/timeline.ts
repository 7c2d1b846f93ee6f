/**
 * A self-contained HTML timeline of one run, built from its trace: replicas as
 * lanes, frames as arrows from send to delivery, partitions as shaded bands
 * across the page, crashes and pauses as shaded bands on their lane, the final
 * heal, and the moment each replica last changed before convergence.
 */
import type { TraceEntry } from './trace.js';

interface Band {
  readonly fromMs: number;
  toMs: number;
  readonly lane: number | undefined;
  readonly label: string;
}

interface Arrow {
  readonly from: number;
  readonly to: number;
  readonly sentMs: number;
  readonly atMs: number;
  readonly type: number;
  readonly replayed: boolean;
}

const ARROWS_MAX = 4_000;
const TYPE_COLOR: Record<number, string> = { 1: '#9aa5b1', 2: '#2f6fdf', 3: '#d9822b' };

/** Renders the timeline of a run's trace entries (from a run with `keepTrace`) for `replicas` lanes. */
export function renderTimeline(entries: readonly TraceEntry[], replicas: number, title: string): string {
  const bands: Band[] = [];
  const arrows: Arrow[] = [];
  const open = new Map<string, Band>();
  const lastChangeMs = new Array<number>(replicas).fill(0);
  let healMs: number | undefined;
  let convergedMs: number | undefined;
  let endMs = 0;
  const openBand = (key: string, band: Band): void => {
    open.set(key, band);
    bands.push(band);
  };
  const closeBand = (key: string, atMs: number): void => {
    const band = open.get(key);
    if (band !== undefined) band.toMs = atMs;
    open.delete(key);
  };
  for (const { atMs, event: e } of entries) {
    endMs = Math.max(endMs, atMs);
    switch (e.kind) {
      case 'deliver':
        if (arrows.length < ARROWS_MAX) arrows.push({ from: e.from, to: e.to, sentMs: e.sentAtMs, atMs, type: e.frameType, replayed: e.replayed });
        break;
      case 'commit':
      case 'merge':
      case 'apply':
        if (convergedMs === undefined) lastChangeMs[e.node] = atMs;
        break;
      case 'fault': {
        const a = e.action;
        if (a.kind === 'crash' || a.kind === 'pause') {
          const key = `${a.kind === 'crash' ? 'down' : 'paused'}:${a.node}`;
          if (!open.has(key)) openBand(key, { fromMs: atMs, toMs: Number.NaN, lane: a.node, label: a.kind === 'crash' ? 'crashed' : 'paused' });
        } else if (a.kind === 'restart' || a.kind === 'resume') {
          closeBand(`${a.kind === 'restart' ? 'down' : 'paused'}:${a.node}`, atMs);
        } else if (a.kind === 'partition' || a.kind === 'heal') {
          closeBand('net', atMs);
          if (a.kind === 'partition') openBand('net', { fromMs: atMs, toMs: Number.NaN, lane: undefined, label: `partition ${a.shape} ${a.groupA.join(',')}` });
        }
        break;
      }
      case 'final-heal':
        healMs = atMs;
        for (const band of open.values()) band.toMs = atMs;
        open.clear();
        break;
      case 'converged':
        convergedMs = atMs;
        break;
      default:
        break;
    }
  }
  for (const band of bands) if (Number.isNaN(band.toMs)) band.toMs = endMs;
  return page(title, replicas, Math.max(endMs, 1), bands, arrows, healMs, convergedMs, lastChangeMs);
}

function page(title: string, replicas: number, endMs: number, bands: readonly Band[], arrows: readonly Arrow[], healMs: number | undefined, convergedMs: number | undefined, lastChangeMs: readonly number[]): string {
  const laneHeight = Math.max(14, Math.min(40, Math.floor(600 / replicas)));
  const left = 50;
  const width = 1400;
  const height = replicas * laneHeight + 40;
  const x = (ms: number): number => left + (ms / endMs) * (width - left - 10);
  const y = (lane: number): number => 20 + lane * laneHeight + laneHeight / 2;
  const parts: string[] = [];
  for (const band of bands) {
    const top = band.lane === undefined ? 10 : y(band.lane) - laneHeight / 2;
    const h = band.lane === undefined ? height - 20 : laneHeight;
    const fill = band.lane === undefined ? 'rgba(200,60,60,0.10)' : band.label === 'crashed' ? 'rgba(40,40,40,0.35)' : 'rgba(230,180,30,0.35)';
    parts.push(`<rect x="${x(band.fromMs).toFixed(1)}" y="${top}" width="${Math.max(1, x(band.toMs) - x(band.fromMs)).toFixed(1)}" height="${h}" fill="${fill}"><title>${escapeHtml(band.label)} ${band.fromMs}-${band.toMs} ms</title></rect>`);
  }
  for (let lane = 0; lane < replicas; lane++) {
    parts.push(`<line x1="${left}" x2="${width - 10}" y1="${y(lane)}" y2="${y(lane)}" stroke="#ccc"/><text x="4" y="${y(lane) + 4}" font-size="11">n${lane}</text>`);
  }
  for (const a of arrows) {
    parts.push(`<line x1="${x(a.sentMs).toFixed(1)}" y1="${y(a.from)}" x2="${x(a.atMs).toFixed(1)}" y2="${y(a.to)}" stroke="${a.replayed ? '#b0329b' : (TYPE_COLOR[a.type] ?? '#555')}" stroke-width="0.6" opacity="0.55" marker-end="url(#head)"/>`);
  }
  if (healMs !== undefined) parts.push(`<line x1="${x(healMs)}" x2="${x(healMs)}" y1="5" y2="${height - 5}" stroke="#1a7f37" stroke-width="2"><title>final heal at ${healMs} ms</title></line>`);
  if (convergedMs !== undefined) {
    parts.push(`<line x1="${x(convergedMs)}" x2="${x(convergedMs)}" y1="5" y2="${height - 5}" stroke="#1a7f37" stroke-dasharray="4 3" stroke-width="2"><title>converged at ${convergedMs} ms</title></line>`);
    lastChangeMs.forEach((ms, lane) => {
      parts.push(`<circle cx="${x(ms).toFixed(1)}" cy="${y(lane)}" r="4" fill="#1a7f37"><title>n${lane} converged (last change) at ${ms} ms</title></circle>`);
    });
  }
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;margin:16px}svg{border:1px solid #ddd;background:#fff}.k span{display:inline-block;width:12px;height:12px;margin:0 4px 0 14px;vertical-align:middle}</style></head>
<body><h1 style="font-size:18px">${escapeHtml(title)}</h1>
<p class="k"><span style="background:#9aa5b1"></span>hello <span style="background:#2f6fdf"></span>ops <span style="background:#d9822b"></span>snapshot <span style="background:#b0329b"></span>replayed
<span style="background:rgba(200,60,60,0.25)"></span>partition <span style="background:rgba(40,40,40,0.35)"></span>crashed <span style="background:rgba(230,180,30,0.35)"></span>paused
<span style="background:#1a7f37"></span>final heal (solid), converged (dashed), each replica's last change (dot)</p>
<p>0 .. ${endMs} ms virtual time; ${arrows.length}${arrows.length >= ARROWS_MAX ? ' (first)' : ''} frames drawn.</p>
<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><defs><marker id="head" markerWidth="4" markerHeight="4" refX="4" refY="2" orient="auto"><path d="M0,0 L4,2 L0,4 z" fill="#555"/></marker></defs>
${parts.join('\n')}
</svg></body></html>
`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] as string);
}
