/**
 * The MIDI adapter's input side for time (issue #7): the clocks it follows (clock, start, stop,
 * continue, song position → `tempo_change` and `transport` on the bus, through clock-follower.ts) and
 * the timecode it decodes (MTC quarter frames and full frames → `midi_in` of kind `timecode`). One
 * follower and one timecode decoder per input endpoint.
 */
import { type BusLogger, Priority } from '../../daemon/bus/index.js';
import type { Timeline } from '../../daemon/kernel/scheduler.js';
import { ClockFollower, type ClockFollowerEvent } from './clock-follower.js';
import { MtcDecoder, type MtcPosition } from './codec.js';
import type { MidiMessage } from './types.js';

/** Publishes on the bus for the adapter (its counters, its echo bookkeeping). */
export type Publish = (
  type: string,
  payload: unknown,
  priority: Priority | undefined,
  endpoint: string,
) => void;

/** A followed clock, as /health and /metrics show it. */
export interface FollowedClock {
  bpm: number | undefined;
  locked: boolean;
  running: boolean;
  position: number;
}

export class MidiInTime {
  private readonly followers = new Map<string, ClockFollower>();
  private readonly timecode = new Map<string, MtcDecoder>();
  private clockCheck: (() => void) | undefined;

  constructor(
    private readonly timeline: Timeline,
    private readonly logger: BusLogger,
    private readonly publish: Publish,
    private readonly tempoStep: number,
  ) {}

  /** Clock, transport and song position of a followed source. */
  clock(endpoint: string, m: MidiMessage, time: number): void {
    let f = this.followers.get(endpoint);
    if (f === undefined) {
      f = new ClockFollower((e) => this.event(endpoint, e), { tempoStep: this.tempoStep });
      this.followers.set(endpoint, f);
    }
    switch (m.kind) {
      case 'clock':
        f.tick(time);
        this.watch(f);
        return;
      case 'start':
        f.start(time);
        return;
      case 'continue':
        f.continue(time);
        return;
      case 'stop':
        f.stop(time);
        return;
      case 'songposition':
        f.songPosition(m.beats);
        return;
    }
  }

  /** An MTC quarter frame or full frame: a decoded position goes on the bus. */
  timecodeIn(endpoint: string, m: MidiMessage, time: number): void {
    let d = this.timecode.get(endpoint);
    if (d === undefined) {
      d = new MtcDecoder();
      this.timecode.set(endpoint, d);
    }
    let position: MtcPosition | undefined;
    if (m.kind === 'mtc') position = d.push(m.piece, m.value);
    else if (m.kind === 'sysex') position = d.fullFrame(m.data);
    if (position === undefined) return;
    this.publish('midi_in', { port: endpoint, kind: 'timecode', ...position, at: time }, undefined, endpoint);
  }

  /** An input went away: its clock stops now. */
  lost(endpoint: string): void {
    this.followers.get(endpoint)?.check(Number.POSITIVE_INFINITY);
    this.timecode.get(endpoint)?.reset();
  }

  /** The followed clocks by endpoint. */
  followed(): Record<string, FollowedClock> {
    return Object.fromEntries(
      [...this.followers].map(([id, f]) => [
        id,
        { bpm: f.bpm, locked: f.locked, running: f.running, position: f.position },
      ]),
    );
  }

  stop(): void {
    this.clockCheck?.();
    this.clockCheck = undefined;
  }

  /** A clock that stops without Stop (a DAW closed, a cable pulled) must drop the lock in time. */
  private watch(f: ClockFollower): void {
    const deadline = f.deadline;
    if (deadline === undefined) return;
    this.clockCheck?.();
    this.clockCheck = this.timeline.at(deadline, () => {
      this.clockCheck = undefined;
      f.check(this.timeline.now());
    });
  }

  private event(endpoint: string, e: ClockFollowerEvent): void {
    switch (e.kind) {
      case 'tempo':
        this.publish('tempo_change', { bpm: Math.round(e.bpm * 100) / 100 }, Priority.HIGH, endpoint);
        return;
      case 'transport':
        this.publish('transport', { state: e.state, position: e.position }, Priority.CRITICAL, endpoint);
        return;
      case 'lock':
      case 'unlock':
        this.logger.info({ endpoint, bpm: this.followers.get(endpoint)?.bpm }, `MIDI clock ${e.kind}ed`);
        return;
    }
  }
}
