/**
 * Maps an input's stream time (seconds of samples since it opened) to the bus clock (ms).
 *
 * A block's last sample is in the input when its callback runs, or earlier: the callback can be held
 * up (the event loop busy, the process descheduled), never early. So `arrival − streamEnd` is the
 * offset plus a delay ≥ 0, and the smallest one over a recent window is the closest to the offset.
 * The window is short enough that the device clock's drift against the system clock (tens of ppm:
 * well under 1 ms in 10 s) does not matter, and long enough to hold a few undelayed blocks.
 */
export class StreamClock {
  /** (arrival time, offset candidate) pairs, candidates increasing: a sliding-window minimum. */
  private readonly times: number[] = [];
  private readonly candidates: number[] = [];
  private offsetMs = Number.NaN;

  constructor(private readonly windowMs = 2_000) {}

  /** A block whose last sample is at `streamEndSeconds` arrived at `arrivalMs` (bus clock). */
  block(streamEndSeconds: number, arrivalMs: number): void {
    const candidate = arrivalMs - streamEndSeconds * 1000;
    while (this.candidates.length > 0 && (this.candidates.at(-1) as number) >= candidate) {
      this.candidates.pop();
      this.times.pop();
    }
    this.candidates.push(candidate);
    this.times.push(arrivalMs);
    while ((this.times[0] as number) < arrivalMs - this.windowMs) {
      this.times.shift();
      this.candidates.shift();
    }
    this.offsetMs = this.candidates[0] as number;
  }

  /** The bus time of stream time `seconds` (NaN before the first block). */
  toBus(seconds: number): number {
    return this.offsetMs + seconds * 1000;
  }
}
