/**
 * Cold open for Tidelog (f): a replica on the file log of `tidelog/node`
 * (`FileStorage`, default `sync` durability) writes the workload's sets, is
 * closed, and is then reopened from disk: `Replica.open` recovering every
 * segment (checksums verified) and rebuilding the materialized state.
 */
import { Replica } from '../../src/core/index.js';
import { FileStorage } from '../../src/storage/file/index.js';
import { writeSets } from './data.js';
import type { ColdStore, ColdVariant } from './encoding.js';
import { TidelogDoc } from './tidelog.js';

/**
 * The Tidelog cold-open variants: the bare log (recovery replays every op), and
 * the log after `compact()` (default retention, 10,000 ops of history): open
 * loads the snapshot and replays only what follows it.
 */
export function tidelogColdStores(): ColdVariant[] {
  const keepAll = { heldOpsMax: Number.POSITIVE_INFINITY };
  const store =
    (how: 'bare' | 'compacted' | 'defaults'): ColdStore =>
    async (_source, dir, ops, keyCount) => {
      const options = how === 'defaults' ? {} : keepAll;
      const replica = await Replica.open({ storage: await FileStorage.open(dir), replicaId: 'cold-open-writer', ...options });
      await writeSets(new TidelogDoc(replica), 0, ops, keyCount);
      if (how === 'compacted') await replica.compact();
      await replica.close();
      return async (openDir) => new TidelogDoc(await Replica.open({ storage: await FileStorage.open(openDir), ...options }));
    };
  const how = 'Replica.open on the file log (FileStorage from tidelog/node, written with a commit per 1,000 ops): recovery checks every segment it reads and rebuilds the state';
  return [
    { group: 'f-cold-open', store: store('bare'), note: `tidelog: ${how}; no snapshot (automatic compaction off), so every op is replayed` },
    { group: 'f-cold-open-compacted', store: store('compacted'), note: `tidelog after compact() (snapshot of the winners + the last 10,000 ops of history): ${how}` },
    {
      group: 'f-cold-open-defaults',
      store: store('defaults'),
      note: `tidelog with the default options, never calling compact(): the replica compacted by itself whenever more than 250,000 ops were held (keeping 10,000): ${how}`,
    },
  ];
}
