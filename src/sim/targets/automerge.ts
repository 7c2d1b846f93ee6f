/**
 * The Automerge target: one Automerge document per replica, the state is its
 * root map. Summaries are the document's heads (JSON); payloads are
 * `saveSince(doc, heads the peer has and we know)`, a full save when we know
 * none of them. Durable chunks are `saveIncremental` outputs, loaded back in
 * order with `loadIncremental`.
 */
import type * as AutomergeModule from '@automerge/automerge';
import { DecodeError } from '../../core/errors.js';
import { optionalImport } from './optional-import.js';
import type { CrdtTarget, TargetOpenOptions, TargetReplica, TargetWrite, WriteReceipt } from './target.js';

type A = typeof AutomergeModule;
type Root = Record<string, unknown>;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

function parseHeads(summary: Uint8Array): string[] {
  try {
    const heads: unknown = JSON.parse(decoder.decode(summary));
    if (Array.isArray(heads) && heads.every((h) => typeof h === 'string' && /^[0-9a-f]{64}$/.test(h))) return heads as string[];
  } catch {
    // fall through to the typed error
  }
  throw new DecodeError('automerge summary is not a JSON list of change hashes');
}

class AutomergeTargetReplica implements TargetReplica {
  constructor(
    private readonly am: A,
    private doc: AutomergeModule.Doc<Root>,
    private readonly options: TargetOpenOptions,
  ) {}

  async write(writes: readonly TargetWrite[]): Promise<WriteReceipt> {
    // Change times come from the injected clock (Automerge would read the real one); seconds, as Automerge stores them.
    this.doc = this.am.change(this.doc, { time: Math.floor(this.options.clock.now() / 1000) }, (root) => {
      for (const w of writes) {
        if (w.value === undefined) delete root[w.key];
        else root[w.key] = w.value;
      }
    });
    const chunk = this.am.saveIncremental(this.doc);
    if (chunk.length > 0) await this.options.log.append(chunk);
    return {};
  }

  read(): Iterable<readonly [string, unknown]> {
    return Object.entries(this.am.toJS(this.doc));
  }

  summary(): Uint8Array {
    return encoder.encode(JSON.stringify(this.am.getHeads(this.doc)));
  }

  payloadFor(peerSummary: Uint8Array | undefined): Uint8Array | undefined {
    if (peerSummary === undefined) return this.am.save(this.doc);
    const known = parseHeads(peerSummary).filter((head) => this.am.hasHeads(this.doc, [head]));
    const payload = this.am.saveSince(this.doc, known);
    return payload.length === 0 ? undefined : payload;
  }

  async apply(payload: Uint8Array): Promise<void> {
    try {
      this.doc = this.am.loadIncremental(this.doc, payload);
    } catch (error) {
      throw new DecodeError(`automerge payload does not load: ${(error as Error).message}`);
    }
    const chunk = this.am.saveIncremental(this.doc);
    if (chunk.length > 0) void this.options.log.append(chunk);
  }
}

/** The Automerge adapter (`@automerge/automerge` is loaded on first use). */
export const automergeTarget: CrdtTarget = {
  name: 'automerge',
  semantics: 'own',
  async open(options) {
    const am = await optionalImport<A>('@automerge/automerge', 'automerge');
    let doc = am.init<Root>({ actor: options.replicaId });
    for (const chunk of options.durable) doc = am.loadIncremental(doc, chunk);
    // What was loaded is already durable: start the incremental saves after it.
    am.saveIncremental(doc);
    return new AutomergeTargetReplica(am, doc, options);
  },
};
