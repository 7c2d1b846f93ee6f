/** The relay's counters, written to `/metrics` through the shared {@link PrometheusWriter}. */
import { bySingleLabel, PrometheusWriter } from './prometheus.js';

/** Why a connection or frame was rejected before being relayed. */
export type RejectionReason = 'bad_path' | 'bad_room' | 'room_full' | 'server_full' | 'sockets_full' | 'shutting_down' | 'oversized' | 'text_frame';
/** Why a frame was not delivered. */
export type DropReason = 'backpressure' | 'store_full';
/** Why the relay closed a connection. */
export type DisconnectReason = 'heartbeat' | 'slow_receiver' | 'flood' | 'protocol' | 'shutdown' | 'upgrade_timeout' | 'evicted_pending';
/** Which budget stopped the relay reading a member for a while: its own, or its room's. */
export type ThrottleScope = 'connection' | 'room';

/** What the relay knows only at render time. */
export interface RelayGauges {
  /** Rooms with at least one member. */
  readonly rooms: number;
  /** Accepted TCP sockets: members, sockets still to upgrade, HTTP requests. */
  readonly sockets: number;
  /** Accepted sockets that are not members (yet). */
  readonly socketsPending: number;
  /** Members whose store replay is running. */
  readonly replaysActive: number;
  /** Replay bytes handed to sockets and not yet flushed to the kernel, over all members. */
  readonly replayBytesInFlight: number;
  /** Members the relay is not reading right now because a budget ran out. */
  readonly throttled: number;
}

/** Every counter the relay keeps; counters only grow. */
export class RelayMetrics {
  /** Open member connections. */
  connections = 0;
  /** Frames received from members. */
  framesReceived = 0;
  /** Bytes received from members. */
  bytesReceived = 0;
  /** Frame deliveries to members (one frame to three members counts three). */
  framesRelayed = 0;
  /** Bytes delivered to members. */
  bytesRelayed = 0;
  /** Stored frames replayed to joining members. */
  framesReplayed = 0;
  /** Bytes of stored frames replayed. */
  bytesReplayed = 0;
  /** Frames appended to store-and-forward. */
  framesStored = 0;
  /** Connections accepted since start. */
  connectionsAccepted = 0;
  /** TCP sockets accepted since start. */
  socketsAccepted = 0;
  readonly rejections = new Map<RejectionReason, number>();
  readonly drops = new Map<DropReason, number>();
  readonly disconnects = new Map<DisconnectReason, number>();
  readonly throttles = new Map<ThrottleScope, number>();

  /** Counts one rejection. */
  reject(reason: RejectionReason): void {
    this.rejections.set(reason, (this.rejections.get(reason) ?? 0) + 1);
  }

  /** Counts one dropped frame. */
  drop(reason: DropReason): void {
    this.drops.set(reason, (this.drops.get(reason) ?? 0) + 1);
  }

  /** Counts one forced disconnect. */
  disconnect(reason: DisconnectReason): void {
    this.disconnects.set(reason, (this.disconnects.get(reason) ?? 0) + 1);
  }

  /** Counts one pause of a member's reads. */
  throttle(scope: ThrottleScope): void {
    this.throttles.set(scope, (this.throttles.get(scope) ?? 0) + 1);
  }

  /** Adds the relay's families to `writer`. */
  write(writer: PrometheusWriter, gauges: RelayGauges): void {
    writer
      .gauge('process_resident_memory_bytes', 'Resident memory of the relay process in bytes.', process.memoryUsage.rss())
      .gauge('tidelog_relay_connections', 'Open member connections.', this.connections)
      .gauge('tidelog_relay_rooms', 'Rooms with at least one member.', gauges.rooms)
      .gauge('tidelog_relay_sockets', 'Accepted TCP sockets: members, sockets not upgraded yet, HTTP requests.', gauges.sockets)
      .gauge('tidelog_relay_sockets_pending', 'Accepted sockets that are not members (yet).', gauges.socketsPending)
      .gauge('tidelog_relay_replays_active', 'Members whose store replay is running.', gauges.replaysActive)
      .gauge('tidelog_relay_replay_bytes_in_flight', 'Replay bytes handed to member sockets and not yet flushed.', gauges.replayBytesInFlight)
      .gauge('tidelog_relay_members_throttled', 'Members not being read right now because their own or their room budget ran out.', gauges.throttled)
      .counter('tidelog_relay_sockets_accepted_total', 'TCP sockets accepted.', this.socketsAccepted)
      .counter('tidelog_relay_connections_accepted_total', 'Member connections accepted.', this.connectionsAccepted)
      .counter('tidelog_relay_frames_received_total', 'Binary frames received from members.', this.framesReceived)
      .counter('tidelog_relay_bytes_received_total', 'Bytes received from members.', this.bytesReceived)
      .counter('tidelog_relay_frames_relayed_total', 'Frame deliveries to members.', this.framesRelayed)
      .counter('tidelog_relay_bytes_relayed_total', 'Bytes delivered to members.', this.bytesRelayed)
      .counter('tidelog_relay_frames_stored_total', 'Frames kept for store-and-forward.', this.framesStored)
      .counter('tidelog_relay_frames_replayed_total', 'Stored frames replayed to joining members.', this.framesReplayed)
      .counter('tidelog_relay_replay_bytes_total', 'Bytes of stored frames replayed to joining members.', this.bytesReplayed)
      .family('tidelog_relay_rejections_total', 'counter', 'Connections or frames rejected, by reason.', bySingleLabel('reason', this.rejections))
      .family('tidelog_relay_frames_dropped_total', 'counter', 'Frames not delivered, by reason.', bySingleLabel('reason', this.drops))
      .family('tidelog_relay_disconnects_total', 'counter', 'Connections closed by the relay, by reason.', bySingleLabel('reason', this.disconnects))
      .family('tidelog_relay_throttles_total', 'counter', 'Times the relay stopped reading a member until a budget refilled, by budget.', bySingleLabel('scope', this.throttles));
  }

  /** The relay's families alone, as text (tests, tools). */
  render(gauges: RelayGauges): string {
    const writer = new PrometheusWriter();
    this.write(writer, gauges);
    return writer.text();
  }
}
