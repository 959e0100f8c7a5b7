/**
 * OSC over TCP framing (issue #10). A TCP stream has no packet boundaries, and two framings are in use:
 * - OSC 1.0 ("OSC Packets"): "In a stream-based protocol such as TCP, the stream should begin with an
 *   int32 giving the size of the first packet, followed by the contents of the first packet, followed
 *   by the size of the second packet, etc." liblo (`oscsend osc.tcp://…`, pyliblo) and SuperCollider
 *   send this.
 * - OSC 1.1: SLIP (RFC 1055), each packet between END bytes (slip.ts). TouchOSC and osc.js send this.
 *
 * `auto` tells them apart per connection from its first bytes. A length prefix within
 * `osc.maxDatagramBytes` (at most 1 MiB, 0x00100000) always starts with a 0x00 byte; a SLIP stream
 * starts with END (0xC0), or, from a sender that writes END only after a packet (RFC 1055's first
 * form), with the packet's own first byte: '/' for a message, '#' for a bundle (OSC 1.0). The two
 * sets do not overlap, so one byte decides, and the first prefix is then checked for a plausible size.
 * Pure: bytes in, packets out; the listener owns the socket.
 */
import { type DropKind, SlipDecoder } from './slip.js';

export type { DropKind } from './slip.js';

/** How a TCP listener reads its connections: detected per connection, or one framing for all. */
export type TcpFraming = 'auto' | 'slip' | 'length';
/** The framing a connection turned out to speak. */
export type StreamFraming = 'slip' | 'length';

/** What a deframer reports. */
export interface DeframerEvents {
  /** One complete packet. */
  packet(packet: Uint8Array): void;
  /** One packet lost; the stream goes on (SLIP resynchronises at the next END). */
  dropped(reason: string, kind: DropKind): void;
  /**
   * The stream cannot be followed any further (a length prefix over the limit, bytes that fit neither
   * framing): the caller closes the connection. Reported once; the deframer ignores what follows.
   */
  fatal(reason: string, kind: DropKind): void;
  /** The connection's framing is known (auto: detected; otherwise at the first byte). */
  detected?(framing: StreamFraming): void;
}

const END = 0xc0;
const SLASH = 0x2f;
const HASH = 0x23;

/** Frames a packet the OSC 1.0 way: its size as an int32 big-endian, then the packet. */
export function lengthEncode(packet: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + packet.length);
  new DataView(out.buffer).setUint32(0, packet.length, false);
  out.set(packet, 4);
  return out;
}

const hexBytes = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(' ');

/**
 * Reads OSC 1.0 length-prefixed packets. Memory grows with the bytes that arrived, not with the size a
 * prefix announces, so a peer cannot make it reserve `maxBytes` per connection by sending a prefix.
 */
export class LengthDecoder {
  private readonly head = new Uint8Array(4);
  private headLen = 0;
  /** The size the current prefix announced; -1 while reading a prefix. */
  private size = -1;
  private parts: Uint8Array[] = [];
  private got = 0;
  private failed = false;

  constructor(
    private readonly maxBytes: number,
    private readonly events: DeframerEvents,
  ) {}

  push(chunk: Uint8Array): void {
    let off = 0;
    while (off < chunk.length && !this.failed) {
      if (this.size < 0) {
        const n = Math.min(4 - this.headLen, chunk.length - off);
        this.head.set(chunk.subarray(off, off + n), this.headLen);
        this.headLen += n;
        off += n;
        if (this.headLen === 4) this.prefix();
        continue;
      }
      const n = Math.min(this.size - this.got, chunk.length - off);
      // A copy: the chunk's memory is the socket's to reuse.
      this.parts.push(chunk.slice(off, off + n));
      this.got += n;
      off += n;
      if (this.got === this.size) this.complete();
    }
  }

  /** The stream ended: a packet begun (prefix or body) was cut off, and is reported as dropped. */
  end(): void {
    if (this.failed || (this.headLen === 0 && this.size < 0)) return;
    const reason =
      this.size < 0
        ? `the connection closed in the middle of a length prefix (${this.headLen} of 4 bytes)`
        : `the connection closed in the middle of a packet (${this.got} of ${this.size} bytes)`;
    this.reset();
    this.events.dropped(reason, 'framing');
  }

  private prefix(): void {
    const size = new DataView(this.head.buffer).getUint32(0, false);
    this.headLen = 0;
    if (size > this.maxBytes) {
      // The stream cannot be resynchronised: skipping the announced bytes would mean trusting them.
      this.failed = true;
      this.events.fatal(
        `length prefix of ${size} bytes is over osc.maxDatagramBytes (${this.maxBytes})`,
        'oversize',
      );
      return;
    }
    if (size === 0) {
      // OSC 1.0: a packet is never empty. The stream is still in step: the next 4 bytes are a prefix.
      this.events.dropped('length prefix 0: an OSC packet is never empty', 'framing');
      return;
    }
    this.size = size;
  }

  private complete(): void {
    const packet = new Uint8Array(this.size);
    let o = 0;
    for (const p of this.parts) {
      packet.set(p, o);
      o += p.length;
    }
    // Reset before reporting, so a handler that throws cannot leave the decoder inside a packet.
    this.reset();
    this.events.packet(packet);
  }

  private reset(): void {
    this.headLen = 0;
    this.size = -1;
    this.parts = [];
    this.got = 0;
  }
}

/**
 * One connection's stream: detects its framing (`auto`) or uses the configured one, then hands bytes
 * to the SLIP or length decoder.
 */
export class TcpDeframer {
  private inner: SlipDecoder | LengthDecoder | undefined;
  /** auto: the first bytes, kept until they decide (a length prefix needs all 4). */
  private readonly head = new Uint8Array(4);
  private headLen = 0;
  private closed = false;
  private readonly events: DeframerEvents;

  constructor(
    private readonly mode: TcpFraming,
    private readonly maxBytes: number,
    events: DeframerEvents,
  ) {
    this.events = {
      ...events,
      fatal: (reason, kind) => {
        this.closed = true;
        events.fatal(reason, kind);
      },
    };
  }

  push(chunk: Uint8Array): void {
    if (this.closed || chunk.length === 0) return;
    if (this.inner !== undefined) {
      this.inner.push(chunk);
      return;
    }
    if (this.mode !== 'auto') {
      this.use(this.mode, chunk);
      return;
    }
    const n = Math.min(4 - this.headLen, chunk.length);
    this.head.set(chunk.subarray(0, n), this.headLen);
    this.headLen += n;
    const framing = this.detect();
    // undefined: the whole chunk went into `head`, more is needed; 'none': reported, closing.
    if (framing === undefined || framing === 'none') return;
    const head = this.head.slice(0, this.headLen);
    this.headLen = 0;
    this.use(framing, head);
    this.push(chunk.subarray(n));
  }

  /** The stream ended: a packet cut off is reported as dropped. */
  end(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.inner !== undefined) this.inner.end();
    else if (this.headLen > 0)
      this.events.dropped(
        `the connection closed after ${this.headLen} bytes, too few to tell its framing`,
        'framing',
      );
  }

  private use(framing: StreamFraming, first: Uint8Array): void {
    this.inner =
      framing === 'slip'
        ? new SlipDecoder(this.maxBytes, { frame: this.events.packet, dropped: this.events.dropped })
        : new LengthDecoder(this.maxBytes, this.events);
    this.events.detected?.(framing);
    this.inner.push(first);
  }

  /** auto: the framing the first bytes show, 'none' (reported, closing) or undefined (need more). */
  private detect(): StreamFraming | 'none' | undefined {
    const first = this.head[0] as number;
    if (first === END || first === SLASH || first === HASH) return 'slip';
    if (first !== 0) {
      this.events.fatal(
        `first byte 0x${first.toString(16).padStart(2, '0')} fits neither framing: SLIP starts with ` +
          "END (0xc0) or an OSC packet ('/' or '#'), an OSC 1.0 length prefix with 0x00",
        'framing',
      );
      return 'none';
    }
    if (this.headLen < 4) return undefined;
    const size = new DataView(this.head.buffer).getUint32(0, false);
    // Over the limit: the length decoder reports it (and closes), as for any later prefix.
    if (size > this.maxBytes) return 'length';
    if (size < 4 || size % 4 !== 0) {
      // OSC 1.0: "The size of every OSC packet is a multiple of 4"; the smallest is 4 bytes.
      this.events.fatal(
        `first bytes ${hexBytes(this.head)} fit neither framing: as a length prefix, ${size} is not a ` +
          'plausible OSC packet size (a multiple of 4, at least 4)',
        'framing',
      );
      return 'none';
    }
    return 'length';
  }
}
