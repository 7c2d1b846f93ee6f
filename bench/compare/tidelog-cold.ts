/**
 * Cold open for Tidelog (f): a replica on the file log of `tidelog/node`
 * (`FileStorage`, default `sync` durability) writes the workload's sets, is
 * closed, and is then reopened from disk: `Replica.open` recovering every
 * segment (checksums verified) and rebuilding the materialized state.
 */
import { Replica } from '../../src/core/index.js';
import { FileStorage } from '../../src/storage/file/index.js';
import { writeSets } from './data.js';
import type { ColdStore } from './encoding.js';
import { TidelogDoc } from './tidelog.js';

/** The Tidelog cold-open store and what it measures. */
export function tidelogColdStore(): { store: ColdStore; note: string } {
  const store: ColdStore = async (_source, dir, ops, keyCount) => {
    const writer = new TidelogDoc(await Replica.open({ storage: await FileStorage.open(dir), replicaId: 'cold-open-writer' }));
    await writeSets(writer, 0, ops, keyCount);
    await writer.close();
    return async (openDir) => new TidelogDoc(await Replica.open({ storage: await FileStorage.open(openDir) }));
  };
  return {
    store,
    note: 'tidelog: Replica.open on the file log (FileStorage from tidelog/node, written with a commit per 1,000 ops, no snapshot): recovery scans and checks every segment and rebuilds the state',
  };
}
