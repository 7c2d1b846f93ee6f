/**
 * The Prometheus text exposition format (version 0.0.4), written by one writer for every part of the
 * relay that reports on `/metrics` (the relay's counters, the store's, the Redis fan-out's): each part
 * adds its metric families to the same writer, which checks names, escapes label values and refuses a
 * family written twice, so two parts can never produce a page Prometheus rejects.
 */
import { InvalidArgumentError } from '../core/errors.js';

/** The two metric types the relay uses. */
export type MetricType = 'gauge' | 'counter';

/** A sample's labels, by name. */
export type MetricLabels = Readonly<Record<string, string>>;

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(value);
}

function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function escapeHelp(help: string): string {
  return help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** Collects metric families and renders them as one exposition. */
export class PrometheusWriter {
  private readonly lines: string[] = [];
  private readonly families = new Set<string>();

  /** One gauge without labels. */
  gauge(name: string, help: string, value: number): this {
    return this.family(name, 'gauge', help, [[{}, value]]);
  }

  /** One counter without labels. */
  counter(name: string, help: string, value: number): this {
    return this.family(name, 'counter', help, [[{}, value]]);
  }

  /**
   * One family with a sample per label set. A family with no sample is written with one unlabelled 0,
   * so a counter that never moved is still visible (and graphs start at zero).
   * @throws InvalidArgumentError for a bad metric or label name, or a family written twice.
   */
  family(name: string, type: MetricType, help: string, samples: Iterable<readonly [MetricLabels, number]>): this {
    if (!METRIC_NAME.test(name)) throw new InvalidArgumentError(`not a Prometheus metric name: '${name}'`, { name });
    if (this.families.has(name)) throw new InvalidArgumentError(`metric family '${name}' written twice`, { name });
    this.families.add(name);
    this.lines.push(`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} ${type}`);
    let any = false;
    for (const [labels, value] of samples) {
      any = true;
      const pairs = Object.entries(labels).map(([label, text]) => {
        if (!LABEL_NAME.test(label)) throw new InvalidArgumentError(`not a Prometheus label name: '${label}'`, { name, label });
        return `${label}="${escapeLabelValue(text)}"`;
      });
      this.lines.push(`${name}${pairs.length === 0 ? '' : `{${pairs.join(',')}}`} ${formatValue(value)}`);
    }
    if (!any) this.lines.push(`${name} 0`);
    return this;
  }

  /** The exposition: every family in the order written, ending with a newline. */
  text(): string {
    return this.lines.length === 0 ? '' : `${this.lines.join('\n')}\n`;
  }
}

/** The samples of a counter map keyed by one label (`reason`, `scope`...). */
export function bySingleLabel(label: string, values: ReadonlyMap<string, number>): [MetricLabels, number][] {
  return [...values].map(([key, value]) => [{ [label]: key }, value]);
}
