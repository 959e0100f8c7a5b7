/**
 * The MIDI adapter's output side (issue #7): bus messages → MIDI on ports and sessions through the
 * output rules, at once or at their `at` on the daemon's scheduler (never early); the clock out; and
 * no stuck notes: every note on sent is tracked (note-tracker.ts) until its note off, and a panic
 * (a `panic` message, `POST /midi/panic`, transport stop, the adapter's stop) sends the note offs and
 * All Notes Off. Notes that an input started (MIDI thru) are released on their outputs when that input
 * goes away, so a lost session never leaves a note hanging elsewhere. A message that came in from an
 * endpoint is never sent back to it.
 */
import type { AnyMessage, BusLogger, MessageBus } from '../../daemon/bus/index.js';
import type { Timeline } from '../../daemon/kernel/scheduler.js';
import { ClockSender } from './clock-sender.js';
import { encodeMidi } from './codec.js';
import type { EndpointStats } from './endpoints.js';
import { NoteTracker } from './note-tracker.js';
import {
  type CompiledMidiOutput,
  compileMidiOutputs,
  type MidiOutputRule,
  type OutputOptions,
} from './output-rules.js';
import type { MidiMessage } from './types.js';

/** Where the output side sends: the adapter's endpoints. */
export interface MidiSink {
  /** Sends one encoded message; false when the endpoint is not open. */
  send(endpoint: string, bytes: Uint8Array): boolean;
  /** Output endpoints open now (ports and sessions). */
  outputs(): string[];
  /** The endpoints an id stands for: `network` is every open session, any other id itself. */
  expand(id: string): string[];
  /** Output endpoint ids that exist in the config (open or not), for rule checks. */
  known(): ReadonlySet<string>;
}

/** Counters of the output side. */
export interface MidiOutCounters {
  sent: number;
  /** Messages an output rule took but whose payload did not fit (nothing sent). */
  encodeErrors: number;
  /** Sends to an endpoint that was not open. */
  notOpen: number;
  echoesSkipped: number;
  /** Sends held for a future `at`, and those refused because the scheduler was full. */
  scheduled: number;
  droppedScheduled: number;
  panics: number;
  /** Note offs sent by panics and by inputs that went away. */
  notesReleased: number;
  clockTicks: number;
}

/** Origins of published messages kept for the echo check (a ring by message id). */
const ORIGINS = 8_192;

type Warn = (key: string, obj: Record<string, unknown>, msg: string) => void;

export interface ClockOutSettings {
  to: readonly string[];
  bpm: number;
  mode: 'transport' | 'always';
}

export class MidiOut {
  private readonly unsubscribe: (() => boolean)[] = [];
  private readonly ruleOffs: (() => boolean)[] = [];
  readonly tracker = new NoteTracker();
  /** The input a held note came from, by `endpoint|channel|note`. */
  private readonly noteOrigin = new Map<string, string>();
  private readonly pending = new Set<() => void>();
  private readonly originIds = new Array<number>(ORIGINS).fill(-1);
  private readonly originOf = new Array<string>(ORIGINS).fill('');
  private clock: ClockSender | undefined;
  readonly counters: MidiOutCounters = {
    sent: 0,
    encodeErrors: 0,
    notOpen: 0,
    echoesSkipped: 0,
    scheduled: 0,
    droppedScheduled: 0,
    panics: 0,
    notesReleased: 0,
    clockTicks: 0,
  };

  constructor(
    private options: OutputOptions,
    private readonly clockOut: ClockOutSettings,
    private readonly bus: MessageBus,
    private readonly timeline: Timeline,
    private readonly sink: MidiSink,
    private readonly stats: EndpointStats,
    private readonly warn: Warn,
    private readonly logger: BusLogger,
  ) {}

  /** Compiles and takes over the rules (throws PFM_ERR_MIDI_CONFIG, leaving the old ones). */
  setRules(rules: readonly MidiOutputRule[], options: OutputOptions = this.options): void {
    const compiled = compileMidiOutputs(rules, options, this.sink.known());
    for (const off of this.ruleOffs.splice(0)) off();
    this.options = options;
    const byType = new Map<string, CompiledMidiOutput[]>();
    for (const o of compiled) byType.set(o.rule.type, [...(byType.get(o.rule.type) ?? []), o]);
    for (const [type, outs] of byType) {
      this.ruleOffs.push(this.bus.subscribe(type, (m) => this.output(m, outs), { name: `midi:out:${type}` }));
    }
  }

  /** Subscribes the rules, panic, transport and tempo; starts the clock out if it runs always. */
  start(rules: readonly MidiOutputRule[]): void {
    this.setRules(rules);
    this.unsubscribe.push(
      this.bus.subscribe('panic', (m) => this.panic(m.payload.reason ?? 'panic message'), {
        name: 'midi:panic',
      }),
      this.bus.subscribe('transport', (m) => this.transport(m.payload.state, m.payload.position, m.at), {
        name: 'midi:transport',
      }),
      this.bus.subscribe('tempo_change', (m) => this.clock?.setTempo(m.payload.bpm), { name: 'midi:tempo' }),
    );
    if (this.clockOut.to.length > 0) {
      this.clock = new ClockSender(
        this.timeline,
        (bytes) => {
          this.counters.clockTicks++;
          const b = Uint8Array.from(bytes);
          for (const ep of this.clockOut.to.flatMap((id) => this.sink.expand(id)))
            this.sendTo(ep, undefined, b);
        },
        { bpm: this.clockOut.bpm },
      );
      if (this.clockOut.mode === 'always') this.clock.start();
    }
  }

  /** Stops the clock (sending Stop), silences every held note, unsubscribes. */
  stop(): void {
    if (this.clock?.running) this.clock.stop();
    this.clock = undefined;
    this.panic('adapter stopping');
    for (const off of [...this.unsubscribe.splice(0), ...this.ruleOffs.splice(0)]) off();
  }

  /** Clock out figures for /health. */
  clockStats(): Record<string, unknown> | undefined {
    const c = this.clock;
    return c === undefined
      ? undefined
      : { running: c.running, bpm: c.bpm, ticksSent: c.ticksSent, to: this.clockOut.to };
  }

  /** Remembers where a message the adapter published came from (the echo check). */
  remember(id: number, origin: string): void {
    const slot = id % ORIGINS;
    this.originIds[slot] = id;
    this.originOf[slot] = origin;
  }

  private originFor(m: AnyMessage): string | undefined {
    if (m.from !== 'midi') return undefined;
    const slot = m.id % ORIGINS;
    return this.originIds[slot] === m.id ? this.originOf[slot] : undefined;
  }

  private output(m: AnyMessage, outs: CompiledMidiOutput[]): void {
    const origin = this.originFor(m);
    for (const o of outs) {
      if (!o.accepts(m)) continue;
      const plan = o.plan(m);
      if (typeof plan === 'string') {
        this.counters.encodeErrors++;
        this.warn(`enc:${o.rule.type}`, { code: 'PFM_ERR_MIDI_ENCODE', messageId: m.id }, plan);
        continue;
      }
      if (plan.tempo !== undefined) this.clock?.setTempo(plan.tempo);
      const targets =
        o.rule.to === undefined ? this.sink.outputs() : o.rule.to.flatMap((id) => this.sink.expand(id));
      for (const target of targets) {
        if (target === origin) {
          this.counters.echoesSkipped++;
          continue;
        }
        for (const s of plan.sends) this.sendAt(target, s.message, s.bytes, s.at, origin);
      }
    }
  }

  private sendAt(
    target: string,
    message: MidiMessage,
    bytes: Uint8Array,
    at: number | undefined,
    origin?: string,
  ): void {
    if (at === undefined || at <= this.timeline.now()) {
      this.sendTo(target, message, bytes, origin);
      return;
    }
    const cancel = this.timeline.at(at, () => {
      this.pending.delete(cancel as () => void);
      this.sendTo(target, message, bytes, origin);
    });
    if (cancel === undefined) {
      // Sending now would be early: drop it, counted and said.
      this.counters.droppedScheduled++;
      this.warn(`held:${target}`, { target }, 'MIDI output not sent: the scheduler is full');
      return;
    }
    this.counters.scheduled++;
    this.pending.add(cancel);
  }

  /** Sends now and keeps the note bookkeeping; `message` undefined for clock bytes. */
  private sendTo(
    target: string,
    message: MidiMessage | undefined,
    bytes: Uint8Array,
    origin?: string,
  ): boolean {
    if (!this.sink.send(target, bytes)) {
      this.counters.notOpen++;
      return false;
    }
    this.counters.sent++;
    this.stats.of(target).messagesOut++;
    if (message === undefined) return true;
    this.tracker.track(target, message);
    if (message.kind === 'noteon' || message.kind === 'noteoff') {
      const key = `${target}|${message.channel}|${message.note}`;
      if (message.kind === 'noteon' && message.velocity > 0 && origin !== undefined)
        this.noteOrigin.set(key, origin);
      else this.noteOrigin.delete(key);
    }
    return true;
  }

  /**
   * Silence: cancels every send not yet due (a future note on would sound again), then sends each held
   * note its note off and All Notes Off on the channels used, on every output.
   */
  panic(reason: string): void {
    this.counters.panics++;
    for (const cancel of this.pending) cancel();
    this.pending.clear();
    let released = 0;
    for (const [output, messages] of this.tracker.panicAll()) {
      for (const msg of messages) {
        if (this.sink.send(output, encodeMidi(msg))) this.stats.of(output).messagesOut++;
        if (msg.kind === 'noteoff') released++;
      }
    }
    this.noteOrigin.clear();
    this.counters.notesReleased += released;
    if (released > 0) this.logger.info({ reason, released }, 'MIDI panic: held notes released');
  }

  /** An input went away: the notes it started on the outputs get their note offs. */
  releaseOrigin(origin: string): void {
    let released = 0;
    for (const [key, from] of [...this.noteOrigin]) {
      if (from !== origin) continue;
      const [target = '', channel = '0', note = '0'] = key.split('|');
      const off: MidiMessage = { kind: 'noteoff', channel: Number(channel), note: Number(note), velocity: 0 };
      // Every note on it held on that output: the tracker counts them.
      const count =
        this.tracker.held(target).find((h) => h.channel === off.channel && h.note === off.note)?.count ?? 1;
      for (let i = 0; i < count; i++) this.sendTo(target, off, encodeMidi(off));
      this.noteOrigin.delete(key);
      released += count;
    }
    this.counters.notesReleased += released;
    if (released > 0)
      this.logger.warn({ origin, released }, 'MIDI input lost with notes held: note offs sent');
  }

  /** An output went away: nothing can be sent to it any more; forget what it held. */
  outputLost(endpoint: string): void {
    this.tracker.forget(endpoint);
    for (const key of [...this.noteOrigin.keys()])
      if (key.startsWith(`${endpoint}|`)) this.noteOrigin.delete(key);
  }

  /** Stop silences; with the clock out following the transport, start and continue at `at` (or now). */
  private transport(state: 'start' | 'stop' | 'continue', position: number, at?: number): void {
    if (state === 'stop') this.panic('transport stop');
    const clock = this.clock;
    if (clock === undefined || this.clockOut.mode !== 'transport') return;
    if (state === 'stop') {
      if (clock.running) clock.stop();
      return;
    }
    if (clock.running) return;
    if (state === 'start') clock.start(at);
    else {
      // Song position is in MIDI beats (sixteenths); the transport's position is in beats.
      clock.songPosition(Math.max(0, Math.round(position * 4)));
      clock.continue(at);
    }
  }
}
