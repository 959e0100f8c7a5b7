/**
 * SLIP framing for OSC 1.1 over TCP (RFC 1055, "double END" variant: a frame may start and end with
 * END; a frame that only ends with END, as RFC 1055 first wrote it, is read too). Pure: bytes in,
 * frames out.
 */
const END = 0xc0;
const ESC = 0xdb;
const ESC_END = 0xdc;
const ESC_ESC = 0xdd;

/** Frames a packet: END, the packet with END and ESC escaped, END. */
export function slipEncode(packet: Uint8Array): Uint8Array {
  let extra = 0;
  for (const b of packet) if (b === END || b === ESC) extra++;
  const out = new Uint8Array(packet.length + extra + 2);
  let o = 0;
  out[o++] = END;
  for (const b of packet) {
    if (b === END) {
      out[o++] = ESC;
      out[o++] = ESC_END;
    } else if (b === ESC) {
      out[o++] = ESC;
      out[o++] = ESC_ESC;
    } else out[o++] = b;
  }
  out[o] = END;
  return out;
}

/** Why a frame was dropped: over the size limit, or its bytes break the framing. */
export type DropKind = 'oversize' | 'framing';

/** What the decoder reports besides frames. */
export interface SlipEvents {
  frame(frame: Uint8Array): void;
  /** A frame dropped: longer than the limit, a bad escape sequence, or cut off by `end()`. */
  dropped(reason: string, kind: DropKind): void;
}

/**
 * A streaming decoder: feed it chunks as they arrive; it calls `frame` for each complete frame. A frame
 * longer than `maxBytes` is dropped whole (the decoder skips to the next END), so a peer cannot make it
 * buffer without bound.
 */
export class SlipDecoder {
  private buf: Uint8Array;
  private len = 0;
  private escaped = false;
  private bad: string | undefined;
  private badKind: DropKind = 'framing';

  constructor(
    private readonly maxBytes: number,
    private readonly events: SlipEvents,
  ) {
    this.buf = new Uint8Array(Math.min(maxBytes, 4096));
  }

  push(chunk: Uint8Array): void {
    for (const b of chunk) {
      if (b === END) {
        this.endFrame();
        continue;
      }
      if (this.bad !== undefined) continue;
      let v = b;
      if (this.escaped) {
        this.escaped = false;
        if (b === ESC_END) v = END;
        else if (b === ESC_ESC) v = ESC;
        else {
          this.bad = `bad SLIP escape 0x${b.toString(16)}`;
          this.badKind = 'framing';
          continue;
        }
      } else if (b === ESC) {
        this.escaped = true;
        continue;
      }
      if (this.len >= this.maxBytes) {
        this.bad = `frame longer than ${this.maxBytes} bytes`;
        this.badKind = 'oversize';
        continue;
      }
      if (this.len === this.buf.length) {
        const grown = new Uint8Array(Math.min(this.maxBytes, this.buf.length * 2));
        grown.set(this.buf);
        this.buf = grown;
      }
      this.buf[this.len++] = v;
    }
  }

  /**
   * The stream ended (the connection closed). A frame begun but not closed by END is a packet cut
   * off: reported as dropped, so no packet that arrived goes uncounted. Nothing buffered: no report.
   */
  end(): void {
    if (this.len === 0 && this.bad === undefined && !this.escaped) return;
    const reason =
      this.bad !== undefined
        ? `${this.bad}, and the connection closed before its END`
        : `the connection closed in the middle of a SLIP frame (${this.len} bytes without END)`;
    const kind = this.bad !== undefined ? this.badKind : 'framing';
    this.len = 0;
    this.escaped = false;
    this.bad = undefined;
    this.events.dropped(reason, kind);
  }

  private endFrame(): void {
    // An ESC right before END escapes nothing: the frame is broken.
    const bad = this.bad ?? (this.escaped ? 'bad SLIP escape: ESC before END' : undefined);
    const kind = this.bad !== undefined ? this.badKind : 'framing';
    const len = this.len;
    // Reset before reporting, so a handler that throws cannot leave the decoder in a frame.
    this.len = 0;
    this.escaped = false;
    this.bad = undefined;
    if (bad !== undefined) this.events.dropped(bad, kind);
    else if (len > 0) this.events.frame(this.buf.slice(0, len));
  }
}
