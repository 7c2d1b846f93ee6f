import { describe, expect, it } from 'vitest';
import type { Op } from '../../src/core/op.js';
import { Replica } from '../../src/core/replica.js';
import { Prng } from '../../src/sim/prng.js';
import { SimMedium, SimStorage } from '../../src/sim/tidelog/storage.js';

const immediate = { afterFsync: (callback: () => void) => callback(), ackBeforeSync: false };
const op = (seq: number, value: number): Op => ({ replica: 'r', seq, wall: seq, logical: 0, key: `k${seq % 3}`, type: 'set', value });

async function mediumWith(batches: number): Promise<SimMedium> {
  const medium = new SimMedium();
  const storage = new SimStorage(medium, immediate);
  await storage.load();
  for (let i = 1; i <= batches; i++) await storage.append([op(2 * i - 1, i), op(2 * i, -i)]);
  return medium;
}

describe('simulated storage', () => {
  it('round-trips appended batches through recovery', async () => {
    const medium = await mediumWith(5);
    const { batches, report } = medium.recover();
    expect(report.droppedRecords).toBe(0);
    expect(batches).toHaveLength(5);
    expect(batches[4]?.[1]).toEqual(op(10, -5));
  });

  it('keeps only synced records on a crash, and detects and drops a torn tail', async () => {
    const medium = await mediumWith(3);
    let fsync: (() => void) | undefined;
    const storage = new SimStorage(medium, {
      afterFsync: (cb) => {
        fsync = cb;
      },
      ackBeforeSync: false,
    });
    let acked = false;
    void storage.append([op(7, 7)]).then(() => {
      acked = true;
    });
    expect(medium.pending).toHaveLength(1);
    medium.crash(true, new Prng(1));
    fsync?.(); // the sync fires after the crash: void
    await Promise.resolve();
    expect(acked).toBe(false);
    const { batches, report } = medium.recover();
    expect(report).toMatchObject({ droppedRecords: 1, reason: 'torn' });
    expect(batches).toHaveLength(3);
  });

  it('detects every single-bit flip in a record and never returns damaged data', async () => {
    let detected = 0;
    const clean = await mediumWith(2);
    const bits = (clean.records[1] as Uint8Array).length * 8;
    for (let bit = 0; bit < bits; bit++) {
      const medium = clean.clone();
      const record = medium.records[1] as Uint8Array;
      record[bit >> 3] = (record[bit >> 3] as number) ^ (1 << (bit & 7));
      const { batches, report } = medium.recover();
      expect(report.droppedRecords).toBe(1);
      expect(batches).toHaveLength(1);
      expect(batches[0]).toEqual([op(1, 1), op(2, -1)]);
      detected += 1;
    }
    expect(detected).toBe(bits);
  });

  it('drops everything from a corrupt record in the middle on, and a replica reopens on the valid prefix', async () => {
    const medium = await mediumWith(4);
    const record = medium.records[1] as Uint8Array;
    record[12] = (record[12] as number) ^ 0x10;
    const storage = new SimStorage(medium, immediate);
    const replica = await Replica.open({ replicaId: 'r', storage });
    expect(storage.recovery).toMatchObject({ droppedRecords: 3, reason: 'checksum' });
    expect(storage.recovery.droppedOpIds).toContain('r:8');
    expect(replica.versionVector()).toEqual({ r: 2 });
  });
});
