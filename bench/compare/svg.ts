/** A tiny SVG line-chart writer (no dependency): log-scaled axes, one polyline per series, a legend. */

/** One line of a chart. */
export interface Series {
  readonly name: string;
  readonly points: readonly (readonly [number, number])[];
}

/** What to draw. */
export interface ChartSpec {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly Series[];
}

const WIDTH = 640;
const HEIGHT = 360;
const MARGIN = { left: 70, right: 130, top: 36, bottom: 48 };
const COLORS = ['#1b7f5f', '#d1495b', '#2e6fbd', '#e0a100', '#7a4fb5', '#666666'];

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** 1500 -> `1.5K`, 2e6 -> `2M`, 0.004 -> `0.004`. */
export function shortNumber(n: number): string {
  const abs = Math.abs(n);
  if (abs >= 1e9) return `${+(n / 1e9).toPrecision(3)}G`;
  if (abs >= 1e6) return `${+(n / 1e6).toPrecision(3)}M`;
  if (abs >= 1e3) return `${+(n / 1e3).toPrecision(3)}K`;
  return `${+n.toPrecision(3)}`;
}

function decades(min: number, max: number): number[] {
  const ticks: number[] = [];
  for (let e = Math.floor(Math.log10(min)); e <= Math.ceil(Math.log10(max)); e++) ticks.push(10 ** e);
  return ticks;
}

/** Renders a log-log line chart as an SVG document. Non-positive points are left out. */
export function lineChart(spec: ChartSpec): string {
  const all = spec.series.flatMap((s) => s.points).filter(([x, y]) => x > 0 && y > 0);
  if (all.length === 0) return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="60"><text x="10" y="30">${escapeXml(spec.title)}: no data</text></svg>\n`;
  const xTicks = decades(Math.min(...all.map((p) => p[0])), Math.max(...all.map((p) => p[0])));
  const yTicks = decades(Math.min(...all.map((p) => p[1])), Math.max(...all.map((p) => p[1])));
  const [x0, x1] = [Math.log10(xTicks[0] as number), Math.log10(xTicks[xTicks.length - 1] as number) || 1];
  const [y0, y1] = [Math.log10(yTicks[0] as number), Math.log10(yTicks[yTicks.length - 1] as number)];
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const px = (x: number): number => MARGIN.left + (x1 === x0 ? plotW / 2 : ((Math.log10(x) - x0) / (x1 - x0)) * plotW);
  const py = (y: number): number => MARGIN.top + plotH - (y1 === y0 ? plotH / 2 : ((Math.log10(y) - y0) / (y1 - y0)) * plotH);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" font-family="sans-serif" font-size="11">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#fff"/>`,
    `<text x="${WIDTH / 2}" y="20" text-anchor="middle" font-size="14">${escapeXml(spec.title)}</text>`,
  ];
  for (const t of xTicks) {
    out.push(`<line x1="${px(t)}" x2="${px(t)}" y1="${MARGIN.top}" y2="${MARGIN.top + plotH}" stroke="#eee"/>`);
    out.push(`<text x="${px(t)}" y="${MARGIN.top + plotH + 16}" text-anchor="middle">${shortNumber(t)}</text>`);
  }
  for (const t of yTicks) {
    out.push(`<line x1="${MARGIN.left}" x2="${MARGIN.left + plotW}" y1="${py(t)}" y2="${py(t)}" stroke="#eee"/>`);
    out.push(`<text x="${MARGIN.left - 6}" y="${py(t) + 4}" text-anchor="end">${shortNumber(t)}</text>`);
  }
  out.push(`<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#999"/>`);
  out.push(`<text x="${MARGIN.left + plotW / 2}" y="${HEIGHT - 10}" text-anchor="middle">${escapeXml(spec.xLabel)} (log)</text>`);
  out.push(`<text transform="translate(16 ${MARGIN.top + plotH / 2}) rotate(-90)" text-anchor="middle">${escapeXml(spec.yLabel)} (log)</text>`);
  spec.series.forEach((series, i) => {
    const color = COLORS[i % COLORS.length] as string;
    const points = series.points.filter(([x, y]) => x > 0 && y > 0).map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`);
    if (points.length > 1) out.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${points.join(' ')}"/>`);
    for (const p of points) {
      const [cx, cy] = p.split(',');
      out.push(`<circle cx="${cx}" cy="${cy}" r="3" fill="${color}"/>`);
    }
    const ly = MARGIN.top + 12 + i * 16;
    out.push(`<line x1="${WIDTH - MARGIN.right + 10}" x2="${WIDTH - MARGIN.right + 28}" y1="${ly - 4}" y2="${ly - 4}" stroke="${color}" stroke-width="2"/>`);
    out.push(`<text x="${WIDTH - MARGIN.right + 32}" y="${ly}">${escapeXml(series.name)}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
