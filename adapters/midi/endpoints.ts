/**
 * The endpoints of the MIDI adapter as one surface: OS ports (port-manager.ts) and network sessions
 * (rtp/), each with an id that routes (`from`), outputs (`to`) and the clock name. Per endpoint it
 * keeps what /health and /metrics show: messages in and out, errors, last seen.
 */

/** What the adapter needs of network MIDI (rtp/network-midi.ts implements it). */
export interface NetworkMidi {
  /** Binds the session listener and invites the configured peers; rejects when it cannot listen. */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Sends one complete MIDI message to an open session; false when it is not open. */
  send(endpoint: string, bytes: Uint8Array): boolean;
  /** The ids of the sessions open now. */
  sessions(): string[];
  /** Figures for /health: the listener, each session (state, peer, latency, packets…). */
  stats(): Record<string, unknown>;
}

/** What network MIDI tells the adapter. */
export interface NetworkEvents {
  /** Complete MIDI messages from a session (SysEx reassembled), in order, with their arrival time. */
  bytes(endpoint: string, bytes: Uint8Array, time: number): void;
  /** A session opened, ended (BY) or was lost (silent, unreachable). */
  session(
    endpoint: string,
    state: 'open' | 'closed' | 'lost',
    detail: { name?: string; reason?: string },
  ): void;
  /** A malformed packet from a peer: counted, logged rate-limited. */
  malformed(source: string, reason: string): void;
}

/** Per-endpoint figures. */
export interface EndpointCounters {
  messagesIn: number;
  messagesOut: number;
  errors: number;
  /** Bus time of the last message in, ms; undefined before the first. */
  lastSeen: number | undefined;
}

/** Counters by endpoint id, created on first use. */
export class EndpointStats {
  private readonly map = new Map<string, EndpointCounters>();

  of(id: string): EndpointCounters {
    let c = this.map.get(id);
    if (c === undefined) {
      c = { messagesIn: 0, messagesOut: 0, errors: 0, lastSeen: undefined };
      this.map.set(id, c);
    }
    return c;
  }

  all(): Record<string, EndpointCounters> {
    return Object.fromEntries([...this.map].map(([k, v]) => [k, { ...v }]));
  }
}
