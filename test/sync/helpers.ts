import { ManualClock } from '../../src/core/clock.js';
import { Replica } from '../../src/core/replica.js';
import { MemoryRoom, type MemoryTransport } from '../../src/sync/memory-transport.js';
import { ManualScheduler } from '../../src/sync/scheduler.js';
import { SyncSession, type SyncSessionOptions } from '../../src/sync/session.js';

/** Lets every queued microtask and commit finish (no timers involved). */
export async function settle(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((resolve) => setImmediate(resolve));
}

export interface Node {
  replica: Replica;
  transport: MemoryTransport;
  session: SyncSession;
}

/** Opens replicas named by `ids` in one room, sessions not yet started. */
export async function makeNodes(ids: string[], options: SyncSessionOptions = {}, room = new MemoryRoom()): Promise<{ nodes: Node[]; scheduler: ManualScheduler; clock: ManualClock; room: MemoryRoom }> {
  const scheduler = new ManualScheduler();
  const clock = new ManualClock(1_000);
  const nodes: Node[] = [];
  for (const id of ids) {
    const replica = await Replica.open({ replicaId: id, clock });
    const transport = room.join();
    nodes.push({ replica, transport, session: new SyncSession(replica, transport, { scheduler, ...options }) });
  }
  return { nodes, scheduler, clock, room };
}

export function stateOf(replica: Replica): string {
  return JSON.stringify(replica.entries());
}
