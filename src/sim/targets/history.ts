/**
 * The oracle of a target run: every write issued, by which node incarnation,
 * when it was acknowledged and with which stamp. Targets expose values, not
 * ops, so a write is identified by its global issue number.
 */
import type { TargetWrite } from './target.js';

/** One write as issued (one entry of a batch), and its fate. */
export interface IssuedWrite {
  /** Global issue order (batch entries in order). */
  readonly seq: number;
  readonly node: number;
  /** The node's incarnation (restart count) when it issued the write. */
  readonly incarnation: number;
  readonly key: string;
  /** Absent = delete. */
  readonly value?: TargetWrite['value'];
  readonly issuedAtMs: number;
  /** Set when the target acknowledged it. */
  ackAtMs?: number;
  /** The receipt's stamp (hlc-lww targets). */
  stamp?: string;
}

/** Every write of a run, by key. */
export class TargetHistory {
  readonly writes: IssuedWrite[] = [];
  readonly byKey = new Map<string, IssuedWrite[]>();

  /** Records the entries of one local batch; returns them in order. */
  issue(node: number, incarnation: number, writes: readonly TargetWrite[], atMs: number): IssuedWrite[] {
    return writes.map((w) => {
      const issued: IssuedWrite = { seq: this.writes.length, node, incarnation, key: w.key, issuedAtMs: atMs, ...(w.value === undefined ? {} : { value: w.value }) };
      this.writes.push(issued);
      const list = this.byKey.get(w.key);
      if (list === undefined) this.byKey.set(w.key, [issued]);
      else list.push(issued);
      return issued;
    });
  }

  /** Writes acknowledged so far. */
  get acked(): number {
    let n = 0;
    for (const w of this.writes) if (w.ackAtMs !== undefined) n += 1;
    return n;
  }
}
