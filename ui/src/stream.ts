/**
 * The page's one /stream WebSocket (one per page: the daemon caps clients per address, README "Control
 * API"), every type, filtered on the page. The token travels as a subprotocol (token.ts). A socket that
 * closes is opened again after a back-off that grows to {@link MAX_RETRY_MS}; after close code 1013
 * (the daemon's client caps: try again later) it waits at least {@link FULL_RETRY_MS}.
 *
 * The page asks for at most {@link MAX_TYPE_RATE} messages per second of each type (`maxTypeRate`,
 * daemon/api/routes/stream.ts): a person reads a sample of a flood, not all of it, and five pages must
 * not slow the bus (issue #12: ui.bus_throughput_ratio, five pages streaming every message of a 10 k
 * msg/s relay made the daemon lose packets). Rare types (beats, tempo, chords) all come through.
 * Each frame is parsed and handed on at once, so the socket is read as fast as frames come and the
 * daemon's rule for slow clients (dropped past `api.stream.maxBufferedBytes` unsent) never has to act
 * on this page; what the frames are drawn into is updated a few times a second, not per frame.
 */
import { streamProtocols } from './token.js';
import type { AnyMessage } from './types.js';

/** Messages per second of each type the page asks the stream for. */
export const MAX_TYPE_RATE = 100;
const FIRST_RETRY_MS = 500;
const MAX_RETRY_MS = 10_000;
const FULL_RETRY_MS = 5_000;
/** RFC 6455 close codes the page explains. */
const TRY_AGAIN_LATER = 1013;
const ABNORMAL = 1006;

export type StreamState =
  | { kind: 'connecting' }
  | { kind: 'open'; since: number }
  | { kind: 'closed'; code: number; reason: string; retryAt: number };

export interface StreamHandlers {
  message(m: AnyMessage): void;
  state(s: StreamState): void;
}

/** What a close code means for a person. */
export function describeClose(code: number, reason: string): string {
  if (reason !== '') return `${reason} (close code ${code})`;
  if (code === ABNORMAL)
    return (
      'the connection was refused or cut (close code 1006): a wrong token, the daemon stopped, ' +
      'or this page fell behind and the daemon dropped it (api.stream.maxBufferedBytes)'
    );
  if (code === TRY_AGAIN_LATER) return 'the daemon has too many stream clients (close code 1013)';
  return `closed (code ${code})`;
}

export class StreamClient {
  private socket: WebSocket | undefined;
  private timer: number | undefined;
  private retryMs = FIRST_RETRY_MS;
  private stopped = true;
  /** Frames that were not a JSON message (counted, not shown). */
  badFrames = 0;

  constructor(
    private readonly url: string,
    private readonly token: () => string,
    private readonly on: StreamHandlers,
  ) {}

  start(): void {
    this.stopped = false;
    this.open();
  }

  stop(): void {
    this.stopped = true;
    window.clearTimeout(this.timer);
    const socket = this.socket;
    if (socket !== undefined) {
      // Detached first: a closing socket can still deliver frames, which would overlap the next
      // stream's (a token change) and show the same message twice.
      socket.onmessage = null;
      socket.onclose = null;
      socket.onerror = null;
      socket.close(1000, 'page closed the stream');
    }
    this.socket = undefined;
  }

  /** Opens again now and from the first back-off (the daemon answers again after a restart). */
  reconnectSoon(): void {
    if (this.stopped || (this.socket !== undefined && this.socket.readyState <= WebSocket.OPEN)) return;
    window.clearTimeout(this.timer);
    this.retryMs = FIRST_RETRY_MS;
    this.open();
  }

  /** Opens again at once (a new token). */
  restart(): void {
    this.stop();
    this.retryMs = FIRST_RETRY_MS;
    this.start();
  }

  private open(): void {
    this.on.state({ kind: 'connecting' });
    const ws = new WebSocket(this.url, streamProtocols(this.token()));
    this.socket = ws;
    ws.onopen = () => {
      this.retryMs = FIRST_RETRY_MS;
      this.on.state({ kind: 'open', since: Date.now() });
    };
    ws.onmessage = (ev: MessageEvent) => {
      if (typeof ev.data !== 'string') return;
      let m: AnyMessage;
      try {
        m = JSON.parse(ev.data) as AnyMessage;
      } catch {
        this.badFrames++;
        return;
      }
      this.on.message(m);
    };
    ws.onclose = (ev: CloseEvent) => {
      if (this.socket !== ws || this.stopped) return;
      this.socket = undefined;
      const wait = ev.code === TRY_AGAIN_LATER ? Math.max(FULL_RETRY_MS, this.retryMs) : this.retryMs;
      this.retryMs = Math.min(MAX_RETRY_MS, this.retryMs * 2);
      this.on.state({ kind: 'closed', code: ev.code, reason: ev.reason, retryAt: Date.now() + wait });
      this.timer = window.setTimeout(() => this.open(), wait);
    };
  }
}
