/**
 * Flooders for the relay abuse tests and `bench/relay-abuse.bench.ts`, in their own process so that their CPU is not the
 * probe's: `count` members of `room` that never read (their sockets are paused) and send 1 KiB
 * frames as fast as their sockets take them, reconnecting whenever the relay cuts them off.
 * Prints `reconnects <n> sent <frames>` every second. Argv: relayUrl room count.
 */
import { WebSocket } from 'ws';

const [url, room, countArg] = process.argv.slice(2) as [string, string, string];
const frame = Buffer.alloc(1024, 0x5a);
let reconnects = 0;
let sent = 0;

function flooder(): void {
  const ws = new WebSocket(`${url}/rooms/${room}`, { perMessageDeflate: false });
  ws.on('error', () => undefined);
  ws.on('open', () => {
    (ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const socket = (ws as unknown as { _socket: { once(event: 'drain', f: () => void): void } })._socket;
    const burst = () => {
      if (ws.readyState !== WebSocket.OPEN) return;
      // Keep the socket's write buffer full, no more, and sleep until it drains: a flood that costs the
      // relay all it can, and this process (sharing the machine's cores) as little as it can.
      while (ws.bufferedAmount < 256 * 1024) {
        ws.send(frame);
        sent += 1;
      }
      socket.once('drain', burst);
    };
    burst();
  });
  ws.on('close', () => {
    reconnects += 1;
    setTimeout(flooder, 50);
  });
}

for (let i = 0; i < Number(countArg); i++) flooder();
setInterval(() => process.stdout.write(`reconnects ${reconnects} sent ${sent}\n`), 1_000);
