/**
 * The bench's receiving end of an OSC relay climb (osc-relay.ts, ui-climb.ts): counts the packets of
 * the current step, those whose sequence number is in [lo, hi), as they arrive from the relay.
 */
import { SEQ_OFFSET } from './osc-packets.js';

/** The relay figures' packet: one int32 sequence number in a 16-byte OSC message. */
export const RELAY_PACKET_BYTES = 16;
/** Before a step: no packet for this long (stragglers of a failed step have drained). */
const QUIET_MS = 50;

/** Counts the packets of the current step (seq in [lo, hi)) arriving at the bench's receiver. */
export class StepCounter {
  private lo = 0;
  private hi = 0;
  got = 0;
  /** Packets outside the current step (stragglers of an earlier one) and of an unexpected size. */
  stale = 0;
  odd = 0;
  /** performance.now() of the latest packet, any. */
  last = 0;
  private complete: (() => void) | undefined;

  /** @param quietMaxMs longest wait for quiet before a step goes ahead anyway (stale packets are told apart by seq) */
  constructor(private readonly quietMaxMs: number) {}

  readonly onMessage = (msg: Buffer): void => {
    this.last = performance.now();
    if (msg.length !== RELAY_PACKET_BYTES) {
      this.odd++;
      return;
    }
    const seq = msg.readInt32BE(SEQ_OFFSET);
    if (seq < this.lo || seq >= this.hi) {
      this.stale++;
      return;
    }
    if (++this.got === this.hi - this.lo) this.complete?.();
  };

  expect(base: number, count: number): void {
    this.lo = base;
    this.hi = base + count;
    this.got = 0;
    this.complete = undefined;
  }

  /** Resolves once every expected packet arrived, or after `ms`. */
  wait(ms: number): Promise<void> {
    if (this.got === this.hi - this.lo) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(finish, ms);
      function finish(): void {
        clearTimeout(timer);
        resolve();
      }
      this.complete = finish;
    });
  }

  /** Resolves once nothing arrived for QUIET_MS (at most this.quietMaxMs). */
  async quiet(): Promise<void> {
    const end = performance.now() + this.quietMaxMs;
    while (performance.now() - this.last < QUIET_MS && performance.now() < end) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}
