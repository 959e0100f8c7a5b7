/**
 * MIDI Time Code (MTC) decoding: quarter frames (F1) and the full-frame SysEx to a time position. Pure, no
 * timers: the caller hands over the pieces the byte parser emits. MIDI Time Code and Cueing Detailed
 * Specification (supplement to MIDI 1.0, 1987), "Quarter Frame Messages" and "Full Message".
 */

/** Frame rates MTC can announce (bits 5-6 of the hours byte): 24, 25, 30 drop-frame (29.97) and 30. */
export type MtcRate = 24 | 25 | 29.97 | 30;

/** A time code position: the SMPTE label plus the real time it stands for. */
export interface MtcPosition {
  hours: number;
  minutes: number;
  seconds: number;
  frames: number;
  rate: MtcRate;
  /**
   * Seconds since 00:00:00:00. For 29.97 (drop-frame) this is the real elapsed time: the labels skip frames
   * 0 and 1 of every minute not divisible by 10, and each frame lasts 1001/30000 s.
   */
  totalSeconds: number;
}

/** Rate code → rate (MTC spec: 0 = 24, 1 = 25, 2 = 30 drop-frame, 3 = 30 non-drop). */
const RATES: readonly MtcRate[] = [24, 25, 29.97, 30];
/** Drop-frame: frames in 10 minutes (17982) and in a minute that drops two labels (1798). */
const DF_TEN_MINUTES = 17982;
const DF_MINUTE = 1798;
const SECONDS_PER_DAY = 86400;

/** Frame labels per second: 30 for drop-frame, whose labels still run 0..29. */
const nominal = (rate: MtcRate): number => (rate === 29.97 ? 30 : rate);

const inRange = (v: unknown, max: number): v is number =>
  typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= max;

/**
 * The position for a label, or undefined when the label does not exist at that rate (hours ≥ 24, minutes or
 * seconds ≥ 60, frames ≥ the rate, or a drop-frame label that SMPTE 12M skips).
 */
export function mtcPosition(
  hours: number,
  minutes: number,
  seconds: number,
  frames: number,
  rate: MtcRate,
): MtcPosition | undefined {
  if (!RATES.includes(rate)) return undefined;
  if (!inRange(hours, 23) || !inRange(minutes, 59) || !inRange(seconds, 59)) return undefined;
  if (!inRange(frames, nominal(rate) - 1)) return undefined;
  // SMPTE 12M drop-frame: labels :00 and :01 do not exist at second 0 of minutes not divisible by 10.
  if (rate === 29.97 && seconds === 0 && frames < 2 && minutes % 10 !== 0) return undefined;
  const p: MtcPosition = { hours, minutes, seconds, frames, rate, totalSeconds: 0 };
  const count = frameCount(p);
  p.totalSeconds = rate === 29.97 ? (count * 1001) / 30000 : count / rate;
  return p;
}

/** Frames since 00:00:00:00 (for drop-frame, real frames: skipped labels are not counted). */
export function frameCount(p: MtcPosition): number {
  const fps = nominal(p.rate);
  const labels = ((p.hours * 60 + p.minutes) * 60 + p.seconds) * fps + p.frames;
  if (p.rate !== 29.97) return labels;
  const totalMinutes = p.hours * 60 + p.minutes;
  return labels - 2 * (totalMinutes - Math.floor(totalMinutes / 10));
}

/**
 * The position `n` frames later (earlier when negative), wrapping at 24 hours as time code does. Use
 * `addFrames(pos, 2)` on a forward quarter-frame position for the time at the moment its last piece arrived.
 */
export function addFrames(p: MtcPosition, n: number): MtcPosition {
  const fps = nominal(p.rate);
  const perDay = p.rate === 29.97 ? 144 * DF_TEN_MINUTES : SECONDS_PER_DAY * fps;
  let count = (((frameCount(p) + Math.trunc(n)) % perDay) + perDay) % perDay;
  if (p.rate === 29.97) {
    // Back from real frames to labels: add the two labels skipped in each minute not divisible by 10.
    const tens = Math.floor(count / DF_TEN_MINUTES);
    const rest = count % DF_TEN_MINUTES;
    count += 18 * tens + (rest < 2 ? 0 : 2 * Math.floor((rest - 2) / DF_MINUTE));
  }
  const frames = count % fps;
  const secs = Math.floor(count / fps);
  const pos = mtcPosition(Math.floor(secs / 3600), Math.floor(secs / 60) % 60, secs % 60, frames, p.rate);
  return pos!; // every count in [0, perDay) maps to a label that exists
}

/**
 * Reads the MTC full-frame message `F0 7F <device> 01 01 hr mn sc fr F7` (hr carries the rate code in bits
 * 5-6 and the hours in bits 0-4). Undefined for any other SysEx or for a label that does not exist.
 */
export function decodeMtcFullFrame(sysex: Uint8Array): MtcPosition | undefined {
  if (sysex.length !== 10 || sysex[0] !== 0xf0 || sysex[9] !== 0xf7) return undefined;
  // Universal Real Time (7F), sub-IDs 01 (MIDI Time Code) 01 (Full Message).
  if (sysex[1] !== 0x7f || sysex[3] !== 0x01 || sysex[4] !== 0x01) return undefined;
  const hr = sysex[5]!;
  for (let k = 2; k < 9; k++) if (sysex[k]! > 0x7f) return undefined;
  return mtcPosition(hr & 0x1f, sysex[6]!, sysex[7]!, sysex[8]!, RATES[(hr >> 5) & 3]!);
}

/**
 * Assembles quarter frames into positions, one decoder per source.
 *
 * A position comes out when eight consecutive pieces have arrived: 0..7 while time code runs forward (it
 * comes out with piece 7), or 7..0 while it runs backward (with piece 0). A piece out of sequence starts the
 * count again, so a position is never made of nibbles from two unrelated sequences.
 *
 * What it returns is the time the eight pieces encode, unchanged. MTC spec: the eight pieces take two frames
 * to send and encode the time of the first one, so running forward the sender is two frames later when
 * piece 7 arrives: `addFrames(pos, 2)` is the time at that moment. The encoded label is returned rather than
 * the compensated one because it is lossless (a receiver that wants "now" adds the frames, one that logs or
 * forwards the time code gets what was sent) and because a compensation would guess at the sender's timing
 * when the tape runs backward.
 */
export class MtcDecoder {
  readonly #nibbles = new Uint8Array(8);
  #last = -1;
  /** Consecutive pieces of a forward run that started with piece 0, and of a backward run from piece 7. */
  #forward = 0;
  #backward = 0;
  #direction: 'forward' | 'backward' | undefined;

  /** The direction of the last completed quarter-frame sequence (undefined before the first). */
  get direction(): 'forward' | 'backward' | undefined {
    return this.#direction;
  }

  /**
   * Takes one quarter frame (`piece` 0..7, `value` 0..15, as in a `mtc` message). Returns the encoded
   * position when this piece completes a sequence, else undefined. An out-of-range piece or value (which the
   * byte parser never emits) breaks the sequence; a completed sequence whose label does not exist (minutes
   * 60, frame 25 at 25 fps) yields undefined: time code that does not exist cannot be followed, and the next
   * sequence two frames later will be read afresh.
   */
  push(piece: number, value: number): MtcPosition | undefined {
    if (!inRange(piece, 7) || !inRange(value, 15)) {
      this.reset();
      return undefined;
    }
    this.#nibbles[piece] = value;
    const last = this.#last;
    this.#last = piece;
    this.#forward = piece === 0 ? 1 : this.#forward > 0 && piece === last + 1 ? this.#forward + 1 : 0;
    this.#backward = piece === 7 ? 1 : this.#backward > 0 && piece === last - 1 ? this.#backward + 1 : 0;
    if (this.#forward === 8) this.#direction = 'forward';
    else if (this.#backward === 8) this.#direction = 'backward';
    else return undefined;
    return this.#position();
  }

  /**
   * Reads a full-frame SysEx (see `decodeMtcFullFrame`). A full frame is sent on a locate (MTC spec, "Full
   * Message"), so a sequence of quarter frames under way is dropped: the next position comes from fresh
   * pieces. Other SysEx return undefined and leave the decoder as it was.
   */
  fullFrame(sysex: Uint8Array): MtcPosition | undefined {
    const pos = decodeMtcFullFrame(sysex);
    if (pos !== undefined) this.reset();
    return pos;
  }

  /** Forgets the pieces received so far (after a gap in the stream, a port reopened). */
  reset(): void {
    this.#nibbles.fill(0);
    this.#last = -1;
    this.#forward = 0;
    this.#backward = 0;
  }

  #position(): MtcPosition | undefined {
    const n = this.#nibbles;
    // MTC spec, quarter frame pieces: the unused high bits of the MS nibbles are ignored, as it asks.
    return mtcPosition(
      n[6]! | ((n[7]! & 1) << 4),
      n[4]! | ((n[5]! & 3) << 4),
      n[2]! | ((n[3]! & 3) << 4),
      n[0]! | ((n[1]! & 1) << 4),
      RATES[(n[7]! >> 1) & 3]!,
    );
  }
}
