/** What every end-of-run checker gets to look at. */
import type { History } from '../history.js';
import type { SimNode } from '../node.js';
import type { SimOptions } from '../../options.js';

/** The finished run, as the checkers see it. */
export interface CheckContext {
  readonly options: SimOptions;
  readonly nodes: readonly SimNode[];
  readonly history: History;
  readonly healAtMs: number;
  /** Virtual time every replica first agreed after the final heal; undefined if they never did. */
  readonly convergedAtMs: number | undefined;
  readonly nowMs: number;
}

export type { Finding } from '../../result.js';
