/** Shared shapes of the benchmark suites: every `bench/*.bench.ts` returns these. */

/** One measured figure. `opsPerSecond` for throughputs, `value` + `unit` for anything else (bytes, ms, ratios). */
export interface BenchResult {
  /** What was measured, unique within its suite (e.g. `set 100K ops / 10K keys`). */
  readonly name: string;
  /** Throughput in ops per second, when the figure is one. */
  readonly opsPerSecond?: number;
  /** Any other figure, in `unit`. */
  readonly value?: number;
  /** Unit of `value` (`bytes`, `ms`, `B/op`, ...). */
  readonly unit?: string;
  /** What the figure counts, how it was checked, or why it is missing. */
  readonly note?: string;
  /** The system measured, for side-by-side comparisons (`tidelog`, `yjs`, `automerge`, `loro`, `machine`). */
  readonly system?: string;
  /** The workload or table the figure belongs to. */
  readonly group?: string;
  /** Ops the figure was measured over. */
  readonly ops?: number;
  /** Bytes the figure was measured over, or produced. */
  readonly bytes?: number;
  /** Kept in the JSON but left out of the runner's Markdown table: the suite's own report (reports/<suite>/) shows it. */
  readonly detail?: boolean;
}

/** Options every suite receives from the runner. */
export interface SuiteOptions {
  /** Short run (CI and `npm run bench -- --quick`): smaller sizes, fewer iterations. */
  readonly quick: boolean;
}

/** The function a suite exports under a name ending in `Suite`. */
export type Suite = (opts: SuiteOptions) => Promise<BenchResult[]>;
