/**
 * What a synced replica says about its relay: one warning when the relay cannot be reached (the first failed
 * attempt of an outage, not one per retry), and one line when it is reached again after that. Nothing while
 * all is well. The state itself is `syncState().connected` and `socket.stats()` (`failedAttempts`, `lastFailure`).
 */
import type { WebSocketTransportState, WebSocketTransportStats } from '../sync/websocket-transport.js';

/** Where the notices go: `warn` for an unreachable relay, `info` when it is back. `false` silences them. */
export type RelayLog = ((level: 'info' | 'warn', message: string) => void) | false;

/** The default: `console.warn` and `console.info`. */
export const consoleRelayLog: Exclude<RelayLog, false> = (level, message) => (level === 'warn' ? console.warn(message) : console.info(message));

/** A transport `onStateChange` hook that reports outages to `log`; `stats` reads the socket's counters. */
export function relayNotices(log: RelayLog, stats: () => WebSocketTransportStats, url: () => string): (state: WebSocketTransportState) => void {
  let reported = false;
  return (state) => {
    if (log === false) return;
    if (state === 'waiting' && !reported) {
      reported = true;
      const failure = stats().lastFailure;
      log(
        'warn',
        `tidelog: cannot reach the relay at ${failure?.url ?? url()}${failure === undefined ? '' : ` (${failure.reason})`}; retrying with backoff. Writes are kept here and sent once it answers.`,
      );
    } else if (state === 'open' && reported) {
      reported = false;
      log('info', `tidelog: connected to the relay at ${url()}`);
    }
  };
}
