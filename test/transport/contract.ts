/**
 * The transport contract suite: what `SyncSession` relies on from a
 * {@link Transport} (src/sync/transport.ts), run on every implementation (the
 * in-memory room, the WebSocket client through a real relay, the simulator's
 * transport) so the test doubles cannot drift from the real one.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Transport, TransportListener } from '../../src/sync/transport.js';

/** One room of a transport under test; members join it one by one. */
export interface TransportRoom {
  /** A new member, connected (or connecting: {@link settle} lets it finish). */
  join(): Promise<Transport>;
  /**
   * Lets everything in flight happen (connections open, frames arrive) until `done` holds; a transport on a
   * real network then waits a little more, so a frame that should not arrive has had the time to.
   */
  settle(done?: () => boolean): Promise<void>;
  /** Releases the room (its members are closed by the suite). */
  cleanup(): Promise<void>;
}

/** A transport implementation under test. */
export interface TransportHarness {
  readonly name: string;
  create(): Promise<TransportRoom>;
}

/** A listener that records what it is told, and whether a frame came in while `send` was running. */
class Recorder implements TransportListener {
  readonly frames: Uint8Array[] = [];
  ups = 0;
  downs = 0;
  sending = false;
  reentrant = 0;
  frame(bytes: Uint8Array): void {
    if (this.sending) this.reentrant += 1;
    this.frames.push(bytes.slice());
  }
  up(): void {
    this.ups += 1;
  }
  down(): void {
    this.downs += 1;
  }
}

const bytesOf = (...values: number[]): Uint8Array => Uint8Array.from(values);

/** Runs the contract against `harness`. */
export function runTransportContract(harness: TransportHarness): void {
  describe(`transport contract: ${harness.name}`, () => {
    const open: { room: TransportRoom; members: Transport[] }[] = [];
    afterEach(async () => {
      for (const { room, members } of open.splice(0)) {
        for (const member of members) await member.close();
        await room.cleanup();
      }
    });

    /** A room with `count` members, each listened to, settled until connected. */
    async function room(count: number): Promise<{ room: TransportRoom; members: Transport[]; seen: Recorder[] }> {
      const r = await harness.create();
      const entry = { room: r, members: [] as Transport[] };
      open.push(entry);
      const seen: Recorder[] = [];
      for (let i = 0; i < count; i++) {
        const member = await r.join();
        entry.members.push(member);
        const recorder = new Recorder();
        member.listen(recorder);
        seen.push(recorder);
      }
      await r.settle(() => entry.members.every((member) => member.connected) && seen.every((recorder) => recorder.ups > 0));
      return { room: r, members: entry.members, seen };
    }

    it('reports up once connected, and says so in `connected`', async () => {
      const { members, seen } = await room(2);
      for (const [i, member] of members.entries()) {
        expect(member.connected, `member ${i}`).toBe(true);
        expect(seen[i]?.ups, `member ${i}`).toBeGreaterThanOrEqual(1);
        expect(seen[i]?.downs, `member ${i}`).toBe(0);
      }
    });

    it('delivers a frame to every other member, byte for byte, and not back to its sender', async () => {
      const { room: r, members, seen } = await room(3);
      members[0]?.send(bytesOf(3, 1, 4, 1, 5));
      await r.settle(() => seen[1]?.frames.length === 1 && seen[2]?.frames.length === 1);
      expect(seen[0]?.frames).toEqual([]);
      expect(seen[1]?.frames).toEqual([bytesOf(3, 1, 4, 1, 5)]);
      expect(seen[2]?.frames).toEqual([bytesOf(3, 1, 4, 1, 5)]);
    });

    it("keeps one sender's frames in send order, and delivers none inside send", async () => {
      const { room: r, members, seen } = await room(2);
      const sender = seen[0] as Recorder;
      const receiver = seen[1] as Recorder;
      receiver.sending = true;
      for (let i = 0; i < 50; i++) members[0]?.send(bytesOf(i, 255 - i));
      receiver.sending = false;
      sender.sending = true;
      members[1]?.send(bytesOf(9));
      sender.sending = false;
      await r.settle(() => receiver.frames.length >= 50 && sender.frames.length >= 1);
      expect(receiver.reentrant + sender.reentrant).toBe(0);
      expect(receiver.frames).toEqual(Array.from({ length: 50 }, (_, i) => bytesOf(i, 255 - i)));
      expect(sender.frames).toEqual([bytesOf(9)]);
    });

    it('delivers a frame as it was sent, whatever the sender does with its buffer afterwards', async () => {
      const { room: r, members, seen } = await room(2);
      const buffer = bytesOf(1, 2, 3, 4);
      members[0]?.send(buffer);
      buffer.fill(0);
      await r.settle(() => seen[1]?.frames.length === 1);
      expect(seen[1]?.frames).toEqual([bytesOf(1, 2, 3, 4)]);
    });

    it('never throws from send, and a closed member neither sends nor receives', async () => {
      const { room: r, members, seen } = await room(3);
      await members[2]?.close();
      expect(() => members[2]?.send(bytesOf(7))).not.toThrow();
      members[0]?.send(bytesOf(8));
      await r.settle(() => seen[1]?.frames.length === 1);
      expect(seen[0]?.frames).toEqual([]);
      expect(seen[1]?.frames).toEqual([bytesOf(8)]);
      expect(seen[2]?.frames).toEqual([]);
      expect(members[2]?.connected).toBe(false);
    });
  });
}
