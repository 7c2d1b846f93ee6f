/** The relay's counters and their Prometheus text rendering for `/metrics`. */

/** Why a connection or frame was rejected before being relayed. */
export type RejectionReason = 'bad_path' | 'bad_room' | 'room_full' | 'server_full' | 'shutting_down' | 'oversized' | 'text_frame';
/** Why a frame was not delivered. */
export type DropReason = 'rate_limited' | 'backpressure' | 'store_full';
/** Why the relay closed a connection. */
export type DisconnectReason = 'heartbeat' | 'slow_receiver' | 'flood' | 'protocol' | 'shutdown';

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
  /** Frames appended to store-and-forward. */
  framesStored = 0;
  /** Connections accepted since start. */
  connectionsAccepted = 0;
  readonly rejections = new Map<RejectionReason, number>();
  readonly drops = new Map<DropReason, number>();
  readonly disconnects = new Map<DisconnectReason, number>();

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

  /** The Prometheus text exposition (version 0.0.4); `rooms` is the current room count. */
  render(rooms: number): string {
    const lines: string[] = [];
    const one = (name: string, type: 'gauge' | 'counter', help: string, value: number) => lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, `${name} ${value}`);
    const labelled = (name: string, help: string, label: string, values: Map<string, number>) => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`);
      if (values.size === 0) lines.push(`${name} 0`);
      for (const [key, value] of values) lines.push(`${name}{${label}="${key}"} ${value}`);
    };
    one('process_resident_memory_bytes', 'gauge', 'Resident memory of the relay process in bytes.', process.memoryUsage.rss());
    one('tidelog_relay_connections', 'gauge', 'Open member connections.', this.connections);
    one('tidelog_relay_rooms', 'gauge', 'Rooms with at least one member.', rooms);
    one('tidelog_relay_connections_accepted_total', 'counter', 'Member connections accepted.', this.connectionsAccepted);
    one('tidelog_relay_frames_received_total', 'counter', 'Binary frames received from members.', this.framesReceived);
    one('tidelog_relay_bytes_received_total', 'counter', 'Bytes received from members.', this.bytesReceived);
    one('tidelog_relay_frames_relayed_total', 'counter', 'Frame deliveries to members.', this.framesRelayed);
    one('tidelog_relay_bytes_relayed_total', 'counter', 'Bytes delivered to members.', this.bytesRelayed);
    one('tidelog_relay_frames_stored_total', 'counter', 'Frames kept for store-and-forward.', this.framesStored);
    one('tidelog_relay_frames_replayed_total', 'counter', 'Stored frames replayed to joining members.', this.framesReplayed);
    labelled('tidelog_relay_rejections_total', 'Connections or frames rejected, by reason.', 'reason', this.rejections);
    labelled('tidelog_relay_frames_dropped_total', 'Frames not delivered, by reason.', 'reason', this.drops);
    labelled('tidelog_relay_disconnects_total', 'Connections closed by the relay, by reason.', 'reason', this.disconnects);
    return `${lines.join('\n')}\n`;
  }
}
