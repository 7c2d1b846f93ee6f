/**
 * Every tab reads and writes, in Node: tabs are TabReplicas sharing a fake-indexeddb factory, Node's
 * BroadcastChannel and an in-memory Web Locks double (whose `crash` hands a lock on as a browser does when
 * its holder dies). Real Chromium runs the same code in the browser suite, with a real renderer crash.
 */
import { IDBFactory } from 'fake-indexeddb';
import { afterEach, describe, expect, it } from 'vitest';
import { openTabReplica, type ChannelLike, type TabReplica } from '../../src/client/index.js';
import { ManualClock } from '../../src/core/index.js';
import { MemoryLockManager } from '../support/lock-manager.js';

/** A BroadcastChannel that a test can cut off, one way or both (a crashed tab neither sends nor hears). */
class CuttableChannel implements ChannelLike {
  private readonly inner: BroadcastChannel;
  sending = true;
  hearing = true;
  onmessage: ((event: { readonly data: unknown }) => void) | null = null;

  constructor(name: string) {
    this.inner = new BroadcastChannel(name);
    this.inner.onmessage = (event) => {
      if (this.hearing) this.onmessage?.({ data: (event as MessageEvent).data });
    };
  }

  postMessage(message: unknown): void {
    if (this.sending) this.inner.postMessage(message);
  }

  close(): void {
    this.inner.close();
  }
}

interface TestTab {
  readonly tab: TabReplica;
  readonly channel: CuttableChannel;
}

let opened: TestTab[] = [];
afterEach(async () => {
  for (const { tab, channel } of opened) {
    channel.sending = true;
    await tab.close().catch(() => undefined);
  }
  opened = [];
});

function group(name = `db-${Math.random().toString(36).slice(2)}`) {
  const factory = new IDBFactory();
  const locks = new MemoryLockManager();
  const clock = new ManualClock(1_000);
  const open = async (): Promise<TestTab> => {
    let channel: CuttableChannel | undefined;
    const tab = await openTabReplica({
      name,
      indexedDB: factory,
      locks,
      clock,
      helloRetryMs: 20,
      channel: (channelName) => {
        channel = new CuttableChannel(channelName);
        return channel;
      },
    });
    const entry = { tab, channel: channel as CuttableChannel };
    opened.push(entry);
    return entry;
  };
  /** Kills a tab as a renderer crash does: it hears and says nothing more, and its lock goes to the next tab. */
  const crash = (victim: TestTab): void => {
    victim.channel.sending = false;
    victim.channel.hearing = false;
    locks.crash(`tidelog:indexeddb:${name}`);
    opened = opened.filter((entry) => entry !== victim);
  };
  return { open, crash, locks };
}

async function until(condition: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('tabs sharing one database', () => {
  it('lets every tab write, and shows every write in every tab; a follower reads its write once set resolves', async () => {
    const { open } = group();
    const a = await open();
    const b = await open();
    const c = await open();
    expect([a.tab.role, b.tab.role, c.tab.role]).toEqual(['leader', 'follower', 'follower']);
    await Promise.all([
      a.tab.set('from/a', 1),
      b.tab.set('from/b', 2),
      c.tab.batch([
        { type: 'set', key: 'from/c', value: 3 },
        { type: 'delete', key: 'from/a' },
      ]),
    ]);
    expect(b.tab.get('from/b')).toBe(2); // read-your-write, synchronously, in the follower
    expect(c.tab.get('from/c')).toBe(3);
    const all = () => [a, b, c].map(({ tab }) => JSON.stringify(tab.entries()));
    await until(() => new Set(all()).size === 1 && a.tab.size >= 2, 'every tab to agree');
    expect(a.tab.entries({ prefix: 'from/' }).map(([key]) => key)).toEqual(c.tab.has('from/a') ? ['from/a', 'from/b', 'from/c'] : ['from/b', 'from/c']);
    // Follower writes land under the tabs' own writer ids of this database; the leader's under the database's id.
    const vv = a.tab.versionVector();
    expect(Object.keys(vv).filter((id) => id.startsWith(`${a.tab.replicaId}~`))).toHaveLength(2);
    expect(vv[a.tab.replicaId]).toBe(1);
    // A tab that opens later gets everything, and its live query sees the next write of another tab.
    const d = await open();
    expect(d.tab.entries()).toEqual(a.tab.entries());
    const seen: number[] = [];
    d.tab.query({ prefix: 'from/' }).subscribe((entries) => seen.push(entries.length));
    await b.tab.set('from/b2', 4);
    await until(() => seen.length === 2, 'the live query to see the write');
    expect(seen[1]).toBe((seen[0] as number) + 1);
  });

  it('passes leadership on a close, and on a crash resends unacknowledged writes, applied exactly once', async () => {
    const { open, crash } = group();
    const leader = await open();
    const b = await open();
    const c = await open();
    await b.tab.set('before', 'crash');
    // The leader commits these but its acks never get out: then it dies.
    leader.channel.sending = false;
    const inFlight = Array.from({ length: 20 }, (_, i) => b.tab.set(`b/${i}`, i)).concat(Array.from({ length: 20 }, (_, i) => c.tab.set(`c/${i}`, i)));
    await until(() => leader.tab.keys({ prefix: 'b/' }).length === 20 && leader.tab.keys({ prefix: 'c/' }).length === 20, 'the leader to commit');
    crash(leader);
    await Promise.all(inFlight);
    const newLeader = [b, c].find(({ tab }) => tab.role === 'leader') as TestTab;
    expect(newLeader).toBeDefined();
    // Written once each: the ids under each writer run 1..n without a repeat, and the values are right.
    const db = newLeader.tab.database?.replica;
    expect(db).toBeDefined();
    for (const [prefix, tab] of [['b/', b.tab] as const, ['c/', c.tab] as const]) {
      const ops = (db?.opsSince({}) ?? []).filter((op) => op.key.startsWith(prefix));
      expect(ops).toHaveLength(20);
      expect(new Set(ops.map((op) => `${op.replica}:${op.seq}`)).size).toBe(20);
      expect(tab.entries({ prefix }).map(([, value]) => value)).toEqual(
        Array.from({ length: 20 }, (_, i) => i)
          .sort((x, y) => String(x).localeCompare(String(y)))
          .map(Number),
      );
    }
    // And the writes go on: through the new leader, and after a clean close to the one left.
    const other = newLeader === b ? c : b;
    await other.tab.set('after', 'crash');
    await newLeader.tab.close();
    opened = opened.filter((entry) => entry !== newLeader);
    await until(() => other.tab.role === 'leader', 'the last tab to lead');
    await other.tab.set('after', 'close');
    expect(other.tab.get('before')).toBe('crash');
    expect(other.tab.get('after')).toBe('close');
    expect(other.tab.keys({ prefix: 'b/' })).toHaveLength(20);
  });

  it('fails the open of a tab that cannot open the database, and leaves the lock to the next tab', async () => {
    const name = `db-${Math.random().toString(36).slice(2)}`;
    const locks = new MemoryLockManager();
    const broken = {
      open: () => {
        throw new Error('IndexedDB is unavailable in this test');
      },
    } as unknown as IDBFactory;
    await expect(openTabReplica({ name, indexedDB: broken, locks, helloRetryMs: 20 })).rejects.toThrow(/unavailable/);
    expect(locks.heldNames()).toEqual([]);
    const tab = await openTabReplica({ name, indexedDB: new IDBFactory(), locks, helloRetryMs: 20 });
    expect(tab.role).toBe('leader');
    await tab.set('k', 1);
    await tab.close();
  });

  it('refuses a write whose ops are not under a writer id of this database', async () => {
    const { open } = group();
    const leader = await open();
    const follower = await open();
    const acks: unknown[] = [];
    const spy = new BroadcastChannel(`tidelog:tabs:${(leader.tab as unknown as { parts: { lockName: string } }).parts.lockName.slice('tidelog:indexeddb:'.length)}`);
    spy.onmessage = (event) => {
      const data = (event as MessageEvent).data as { type: string; to?: string };
      if (data.type === 'ack' && data.to === 'intruder') acks.push(data);
    };
    spy.postMessage({ type: 'write', from: 'intruder', writeId: 1, ops: [{ replica: 'someone-else', seq: 1, wall: 1, logical: 0, key: 'x', type: 'set', value: 1 }] });
    await until(() => acks.length === 1, 'the refusal');
    spy.close();
    expect(acks[0]).toMatchObject({ error: { code: 'INVALID_ARGUMENT' } });
    expect(leader.tab.has('x')).toBe(false);
    expect(follower.tab.has('x')).toBe(false);
  });
});
