/**
 * Sends MIDI beat clock (24 clocks per quarter note) and transport messages on a {@link Timeline}.
 * Pure: the bytes go to an injected `send` with the ideal time of each, so a transport can write them
 * to a port and a benchmark can measure the jitter (`midi.clock_out_jitter_p99_us`).
 *
 * The schedule is absolute (PERFORMANCE-NOTES.md, "Timers": chained intervals drift by ~2.8 % at
 * 120 BPM): clock n is due at anchor + (n - anchorTick) · period, and only the next clock is ever
 * scheduled, at its ideal time, from the callback of the one before. A late clock therefore never
 * makes the following ones late, and nothing accumulates. The anchor moves only at a tempo change, to
 * the next clock's time, so that clock keeps its time and the new period starts after it: no jump, no
 * doubled or missing clock.
 */
import { MidiEncodeError } from '../../daemon/kernel/errors.js';
import type { Timeline } from '../../daemon/kernel/scheduler.js';
import { BPM_PER_PERIOD, CLOCKS_PER_BEAT } from './clock-fit.js';

/** Receives each message's bytes and the time (bus clock, ms) it was meant to go out. */
export type ClockSend = (bytes: number[], idealTime: number) => void;

/** Options of a {@link ClockSender}. */
export interface ClockSenderOptions {
  /** Starting tempo. Default 120 BPM. */
  bpm?: number;
}

/** System real-time and common status bytes (MIDI 1.0, "Summary of Status Bytes"). */
const CLOCK = 0xf8;
const START = 0xfa;
const CONTINUE = 0xfb;
const STOP = 0xfc;
const SONG_POSITION = 0xf2;
/** A clock slower than 1 BPM or faster than 1000 is a mistake, not a tempo. */
const MIN_BPM = 1;
const MAX_BPM = 1000;
/** Song position pointer units are sixteenth notes: 6 clocks each. */
const CLOCKS_PER_SIXTEENTH = 6;

/** Sends MIDI clock on an absolute schedule. See the file's header. */
export class ClockSender {
  private readonly timeline: Timeline;
  private readonly send: ClockSend;
  private tempo: number;
  private periodMs: number;
  private isRunning = false;
  private sent = 0;
  /** Clock n (counted from the last start/continue) is due at anchorTime + (n - anchorTick)·period. */
  private anchorTime = 0;
  private anchorTick = 0;
  private next = 0;
  private cancel: (() => void) | undefined;
  /** Clocks since the song's start: the position of the clock that plays next. */
  private pointer = 0;

  constructor(timeline: Timeline, send: ClockSend, options: ClockSenderOptions = {}) {
    this.timeline = timeline;
    this.send = send;
    this.tempo = checkBpm(options.bpm ?? 120);
    this.periodMs = BPM_PER_PERIOD / this.tempo;
  }

  /** The tempo, BPM. */
  get bpm(): number {
    return this.tempo;
  }

  /** Time between two clocks, ms. */
  get period(): number {
    return this.periodMs;
  }

  /** True from start/continue until stop (or until the timeline refuses to schedule). */
  get running(): boolean {
    return this.isRunning;
  }

  /** Timing Clock messages (F8) sent since construction. */
  get ticksSent(): number {
    return this.sent;
  }

  /** Beats (quarter notes) since the song's start, at the clock that plays next. */
  get position(): number {
    return this.pointer / CLOCKS_PER_BEAT;
  }

  /**
   * Sets the tempo from the next clock on: that clock keeps its time, the ones after it are one new
   * period apart. Throws PFM_ERR_MIDI_ENCODE outside 1..1000 BPM.
   */
  setTempo(bpm: number): void {
    checkBpm(bpm);
    if (this.isRunning) {
      this.anchorTime = this.timeOf(this.next);
      this.anchorTick = this.next;
    }
    this.tempo = bpm;
    this.periodMs = BPM_PER_PERIOD / bpm;
  }

  /**
   * Start (FA) at `at` (bus time, ms; default now; a past time means now), the first clock right after
   * it with the same time: receivers begin at song position 0 on that clock (MIDI 1.0, "Start").
   * Restarts from the song's start when already running.
   */
  start(at?: number): void {
    this.halt();
    this.pointer = 0;
    this.begin(START, at);
  }

  /** Continue (FB) at `at` (default now), then clocks from the current song position. No-op when running. */
  continue(at?: number): void {
    if (this.isRunning) return;
    this.begin(CONTINUE, at);
  }

  /** Stop (FC) now, and no more clocks: the pending one is cancelled. No-op when stopped. */
  stop(): void {
    if (!this.isRunning) return;
    this.halt();
    this.send([STOP], this.timeline.now());
  }

  /**
   * Song Position Pointer (F2 lsb msb): `beats` sixteenth notes since the song's start, 0..16383. Sent
   * only while stopped (MIDI 1.0: a master sends it before Continue, not while playing): returns false,
   * sending nothing, while running. Throws PFM_ERR_MIDI_ENCODE outside 0..16383.
   */
  songPosition(beats: number): boolean {
    if (!Number.isInteger(beats) || beats < 0 || beats > 0x3fff) {
      throw new MidiEncodeError(`song position ${String(beats)} is not an integer in 0..16383`);
    }
    if (this.isRunning) return false;
    this.pointer = beats * CLOCKS_PER_SIXTEENTH;
    this.send([SONG_POSITION, beats & 0x7f, beats >> 7], this.timeline.now());
    return true;
  }

  private begin(status: number, at: number | undefined): void {
    const now = this.timeline.now();
    const time = at === undefined || at < now ? now : at;
    this.isRunning = true;
    this.anchorTime = time;
    this.anchorTick = 0;
    this.next = 0;
    this.arm(time, () => {
      this.send([status], time);
      this.tick();
    });
  }

  /** Sends clock `next` at its ideal time and schedules the one after. */
  private readonly tick = (): void => {
    const ideal = this.timeOf(this.next);
    this.send([CLOCK], ideal);
    this.sent++;
    this.pointer++;
    this.next++;
    this.arm(this.timeOf(this.next), this.tick);
  };

  private arm(time: number, run: () => void): void {
    this.cancel = this.timeline.at(time, run);
    // A stopped or full timeline takes nothing more: the clock has stopped, say so.
    if (this.cancel === undefined) this.isRunning = false;
  }

  private halt(): void {
    this.cancel?.();
    this.cancel = undefined;
    this.isRunning = false;
  }

  private timeOf(n: number): number {
    return this.anchorTime + (n - this.anchorTick) * this.periodMs;
  }
}

function checkBpm(bpm: number): number {
  if (!Number.isFinite(bpm) || bpm < MIN_BPM || bpm > MAX_BPM) {
    throw new MidiEncodeError(`tempo ${String(bpm)} BPM is outside ${MIN_BPM}..${MAX_BPM}`);
  }
  return bpm;
}
