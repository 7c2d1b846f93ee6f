/**
 * The transport contract on the in-memory room, on the WebSocket client
 * through a real relay on a loopback port, and on the simulator's transport.
 */
import { WebSocket } from 'ws';
import { RelayServer } from '../../src/relay/server.js';
import { EventQueue } from '../../src/sim/event-queue.js';
import { SimNetwork } from '../../src/sim/network.js';
import { swarmOptions } from '../../src/sim/options.js';
import { Prng } from '../../src/sim/prng.js';
import { SimTransport } from '../../src/sim/tidelog/transport.js';
import { MemoryRoom } from '../../src/sync/memory-transport.js';
import { WebSocketTransport } from '../../src/sync/websocket-transport.js';
import { until } from '../relay/helpers.js';
import { runTransportContract } from './contract.js';

const microtasks = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

runTransportContract({
  name: 'MemoryTransport',
  async create() {
    const room = new MemoryRoom();
    return { join: async () => room.join(), settle: microtasks, cleanup: async () => undefined };
  },
});

runTransportContract({
  name: 'WebSocketTransport through a relay',
  async create() {
    const relay = await RelayServer.start({ port: 0 });
    const url = `${relay.url}/rooms/contract-room-0123456789`;
    return {
      join: async () => new WebSocketTransport({ url, WebSocket: WebSocket as never, reconnectDelayMsMin: 20, reconnectDelayMsMax: 200 }),
      async settle(done) {
        await until(done ?? (() => true), 5_000, 'the relay to deliver');
        await new Promise((resolve) => setTimeout(resolve, 50));
      },
      cleanup: () => relay.close(),
    };
  },
});

runTransportContract({
  name: 'SimTransport on the simulated network',
  async create() {
    // No faults: every link delivers, in order, after its drawn delay.
    const replicas = 3;
    const options = swarmOptions(1, { replicas, faults: [] });
    const queue = new EventQueue();
    let nowMs = 0;
    const transports: SimTransport[] = [];
    const network = new SimNetwork(options, new Prng(1, 'network'), {
      now: () => nowMs,
      schedule: (atMs, run) => queue.push(atMs, run),
      deliver: (_from, to, bytes) => transports[to]?.receive(bytes),
    });
    return {
      async join() {
        if (transports.length === replicas) throw new Error('the simulated room has three places');
        const transport = new SimTransport(network, transports.length);
        transports.push(transport);
        transport.setUp(true);
        return transport;
      },
      async settle() {
        for (let run = queue.popRun(); run !== undefined; run = queue.popRun()) {
          nowMs = queue.lastAtMs;
          run();
        }
      },
      cleanup: async () => undefined,
    };
  },
});
