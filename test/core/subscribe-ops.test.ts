import { describe, expect, it } from 'vitest';
import { type ChangeEvent, type OpsEvent, Replica } from '../../src/core/index.js';

describe('Replica.subscribeOps', () => {
  it('tells about the ops of every local and remote commit, alongside subscribe, and stops on unsubscribe', async () => {
    const source = await Replica.open({ replicaId: 'src' });
    const replica = await Replica.open({ replicaId: 'me' });
    const opsEvents: OpsEvent[] = [];
    const changeEvents: ChangeEvent[] = [];
    const stop = replica.subscribeOps((event) => opsEvents.push(event));
    const stopChanges = replica.subscribe((event) => changeEvents.push(event));
    await replica.set('a', 1);
    await source.batch((b) => {
      b.set('a', 2);
      b.set('b', 3);
    });
    await replica.applyRemote(source.opsSince({}));
    await replica.applyRemote(source.opsSince({})); // duplicates only: no event
    expect(opsEvents.map((e) => [e.origin, e.ops.map((op) => `${op.replica}:${op.seq}`)])).toEqual([
      ['local', ['me:1']],
      ['remote', ['src:1', 'src:2']],
    ]);
    expect('changes' in (opsEvents[0] as object)).toBe(false);
    expect(changeEvents.map((e) => e.ops)).toEqual(opsEvents.map((e) => e.ops));
    stop();
    stopChanges();
    await replica.set('c', 4);
    expect(opsEvents).toHaveLength(2);
    await replica.close();
    await source.close();
  });
});
