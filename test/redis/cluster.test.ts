/**
 * Three real relay processes sharing rooms through a real redis-server, and replicas
 * spread across them: concurrent writes converge; Redis is killed and restarted
 * mid-run (relays keep serving local members, report it, reconnect, and anti-entropy
 * repairs the rest); a relay is killed and its clients fail over to another; a device
 * that comes back when everyone else is gone catches up from the Redis store through
 * a relay it never used. Nothing acknowledged is lost.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSyncedReplicaNode } from '../../src/client/node.js';
import type { SyncedReplica } from '../../src/client/open-synced-replica.js';
import { generateRoomKey, roomKeyToInvite } from '../../src/crypto/room-key.js';
import { RelayProcess } from './relay-process.js';
import { RedisServer } from './redis-server.js';

const RELAYS = 3;
const REPLICAS = 6;
const fast = { transport: { reconnectDelayMsMin: 50, reconnectDelayMsMax: 400, connectTimeoutMs: 2_000 }, session: { antiEntropyIntervalMs: 500 } };

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('three relays sharing rooms through Redis', () => {
  let redis: RedisServer;
  const relays: RelayProcess[] = [];
  const peers: SyncedReplica[] = [];
  /** Every acknowledged write: key -> value (keys are unique per write, so each must survive). */
  const acked = new Map<string, string>();
  const invite = roomKeyToInvite(generateRoomKey());
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tidelog-redis-'));
    redis = await RedisServer.start();
    const prefix = `cluster${process.pid}:`;
    relays.push(
      ...(await Promise.all(
        Array.from({ length: RELAYS }, (_, i) => RelayProcess.start(['--redis', redis.url, '--relay-id', `relay-${i}`, '--redis-prefix', prefix, '--log-level', 'warn'])),
      )),
    );
  });

  afterAll(async () => {
    await Promise.all(peers.map((p) => p.close()));
    await Promise.all(relays.map((r) => r.kill()));
    await redis?.kill();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  /** Opens replica `i` on relay `i % 3`, with the other relays as fallbacks. */
  async function open(i: number, relayIndex = i % RELAYS): Promise<SyncedReplica> {
    const urls = relays.map((r) => r.url);
    const first = urls[relayIndex] as string;
    return openSyncedReplicaNode({
      relayUrl: first,
      fallbackRelayUrls: urls.filter((u) => u !== first),
      key: invite,
      dir: join(dir, `replica-${i}`),
      replica: { replicaId: `replica-${i}` },
      ...fast,
    });
  }

  async function write(peer: SyncedReplica, tag: string, count: number): Promise<void> {
    const id = peer.replica.replicaId;
    await Promise.all(
      Array.from({ length: count }, async (_, n) => {
        const key = `w/${id}/${tag}/${n}`;
        const value = `${id}:${tag}:${n}`;
        await peer.replica.set(key, value);
        acked.set(key, value);
      }),
    );
  }

  function allAckedAt(peer: SyncedReplica): boolean {
    for (const [key, value] of acked) if (peer.replica.get(key) !== value) return false;
    return true;
  }

  function converged(group: readonly SyncedReplica[]): boolean {
    const first = JSON.stringify(group[0]?.replica.entries());
    return group.every((p) => allAckedAt(p) && JSON.stringify(p.replica.entries()) === first);
  }

  async function metric(relay: RelayProcess, name: string): Promise<number> {
    return (await relay.metric(name)) ?? Number.NaN;
  }

  it('replicas spread over three relays write concurrently and converge', async () => {
    peers.push(...(await Promise.all(Array.from({ length: REPLICAS }, (_, i) => open(i)))));
    await until('connect', () => peers.every((p) => p.socket.connected));
    // Unique keys per write, plus contested keys every replica overwrites (LWW decides).
    await Promise.all(peers.map((p) => Promise.all([write(p, 'a', 150), ...Array.from({ length: 10 }, (_, k) => p.replica.set(`shared/${k}`, p.replica.replicaId))])));
    await until('convergence', () => converged(peers));
    expect(peers[0]?.replica.size).toBe(REPLICAS * 150 + 10);
    // The relays really exchanged frames through Redis (replicas on different relays have no other path).
    for (const relay of relays) expect(await metric(relay, 'tidelog_redis_frames_received_total')).toBeGreaterThan(0);
  });

  it('keeps serving local members while Redis is down, then repairs across relays', async () => {
    const writing = Promise.all(peers.map((p) => write(p, 'b', 50)));
    await redis.kill();
    await writing;
    for (const relay of relays) {
      await until('degraded health', async () => ((await relay.health()) as { status?: string } | undefined)?.status === 'degraded');
      expect(await metric(relay, 'tidelog_redis_up')).toBe(0);
    }
    // Replicas 0 and 3 share relay 0: they still sync with each other during the outage.
    const [p0, , , p3] = peers as [SyncedReplica, SyncedReplica, SyncedReplica, SyncedReplica];
    await p0.replica.set('outage/from-0', 'local');
    acked.set('outage/from-0', 'local');
    await until('local delivery during the outage', () => p3.replica.get('outage/from-0') === 'local');
    await write(peers[1] as SyncedReplica, 'outage', 20);
    expect(peers.every((p) => p.socket.connected)).toBe(true);
    expect(await metric(relays[0] as RelayProcess, 'tidelog_redis_publish_failures_total')).toBeGreaterThan(0);

    await redis.restart();
    for (const relay of relays) {
      await until('healthy again', async () => ((await relay.health()) as { status?: string } | undefined)?.status === 'ok');
      expect(await metric(relay, 'tidelog_redis_reconnects_total')).toBeGreaterThan(0);
    }
    await until('convergence after the Redis restart', () => converged(peers));
  });

  it('fails clients over to another relay when theirs is killed', async () => {
    const victim = relays[0] as RelayProcess;
    const moved = peers.filter((_, i) => i % RELAYS === 0);
    const writing = Promise.all(peers.map((p) => write(p, 'c', 50)));
    await victim.kill();
    await writing;
    await until('failover', () => moved.every((p) => p.socket.connected && !p.socket.currentUrl.startsWith(victim.url)));
    await Promise.all(moved.map((p) => write(p, 'after-failover', 20)));
    await until('convergence after the failover', () => converged(peers));
    expect(moved.every((p) => p.socket.stats().connects >= 2)).toBe(true);
    // No client is left stuck: every one is connected and its session up.
    expect(peers.every((p) => p.socket.connected && p.session.status().connected)).toBe(true);
    // The new relay replays the room's stored frames, the mover's own among them: those are refused as
    // 'wrong-sender' (our own id), harmlessly. Nothing else may be rejected.
    const rejected = peers.map((p) => ({ ...p.encryption.stats().framesRejected, 'wrong-sender': 0 }));
    expect(rejected).toEqual(peers.map(() => ({ 'wrong-sender': 0 })));
  });

  it('a device that comes back through another relay catches up from the Redis store alone', async () => {
    // Replica 1 (relay 1) goes offline; the others write and leave; replica 1 returns through relay 2.
    const returning = peers[1] as SyncedReplica;
    await returning.close();
    const others = peers.filter((p) => p !== returning);
    await Promise.all(others.map((p) => write(p, 'while-away', 10)));
    // Once the others hold each other's writes, their relays have published them; each relay sends the
    // XADD before the (batched) PUBLISH on the same connection, so a short pause covers the store.
    await until('the others converge', () => converged(others));
    await new Promise((r) => setTimeout(r, 200));
    await Promise.all(others.map((p) => p.close()));
    peers.length = 0;

    const back = await open(1, 2);
    peers.push(back);
    await until('catch-up from the stored frames', () => allAckedAt(back), 20_000);
    expect(back.socket.currentUrl.startsWith((relays[2] as RelayProcess).url)).toBe(true);
  });
});
