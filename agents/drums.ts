/**
 * The drums (issue #8): step patterns per time signature, one string per drum (`kick: 'X...x...'`).
 * A string's steps divide the bar evenly, whatever their number; `x` is a hit, `X` an accented hit
 * (`accentVelocity`), `.` a rest. On each `beat_event` the drums publish the hits of the steps that
 * start inside that beat, at their exact times computed from the beat's `at` and `bpm`: one
 * `play_drums` per distinct time and velocity, in time order.
 *
 * Swing delays every odd step (the second, fourth… of the bar) by `swing × step length`: with eighth-
 * note steps, 1/3 gives a triplet feel. The time signature is the conductor's (config); a beat number
 * beyond its bar plays nothing.
 */
import type { DrumName, DrumsConfig } from '../config/agents-schema.js';
import type { MessageMap } from '../daemon/bus/index.js';
import { Agent, type AgentContext, on, type Subscription } from './agent.js';

/** One hit to play: when, which drums, how loud. */
export interface DrumHit {
  at: number;
  hits: DrumName[];
  velocity: number;
}

/** What the drums need of the meter: beats per bar and the signature's name (`'4/4'`). */
export interface Meter {
  beatsPerBar: number;
  /** The key of `drums.patterns`, e.g. `'6/8'`. */
  signature: string;
}

/** The meter of a time signature `[beats, unit]`. */
export function meterOf(timeSignature: readonly [number, number]): Meter {
  return { beatsPerBar: timeSignature[0], signature: `${timeSignature[0]}/${timeSignature[1]}` };
}

/**
 * The hits of beat `beat` (1-based) of a bar whose beats last `periodMs`, starting at `at`. Pure; the
 * agent publishes what it returns.
 */
export function hitsOfBeat(
  pattern: Readonly<Record<string, string>>,
  options: { beatsPerBar: number; swing: number; velocity: number; accentVelocity: number },
  beat: number,
  at: number,
  periodMs: number,
): DrumHit[] {
  const { beatsPerBar: bpb } = options;
  const k = beat - 1;
  const groups = new Map<string, DrumHit>();
  for (const [drum, steps] of Object.entries(pattern)) {
    const n = steps.length;
    const stepMs = (bpb * periodMs) / n;
    // Step i starts at i·bpb/n beats into the bar: inside beat k when k <= i·bpb/n < k + 1.
    const last = Math.ceil(((k + 1) * n) / bpb) - 1;
    for (let i = Math.ceil((k * n) / bpb); i <= last && i < n; i++) {
      const c = steps[i];
      if (c !== 'x' && c !== 'X') continue;
      const time = at + ((i * bpb) / n - k) * periodMs + (i % 2 === 1 ? options.swing * stepMs : 0);
      const velocity = c === 'X' ? options.accentVelocity : options.velocity;
      const key = `${time}|${velocity}`;
      const group = groups.get(key);
      if (group === undefined) groups.set(key, { at: time, hits: [drum as DrumName], velocity });
      else group.hits.push(drum as DrumName);
    }
  }
  return [...groups.values()].sort((a, b) => a.at - b.at || b.velocity - a.velocity);
}

/** The drums agent. See the file comment. */
export class Drums extends Agent<DrumsConfig> {
  private readonly meter: Meter;
  private readonly pattern: Readonly<Record<string, string>> | undefined;
  private hits = 0;

  constructor(config: DrumsConfig, meter: Meter, context: AgentContext, id = 'drums') {
    super(id, config, context);
    this.meter = meter;
    this.pattern = config.patterns[meter.signature];
    if (this.pattern === undefined) {
      this.setProblem(
        `no drum pattern for ${meter.signature} in agents.drums.patterns (has ${Object.keys(config.patterns).join(', ') || 'none'})`,
      );
    }
  }

  protected subscriptions(): readonly Subscription[] {
    return [on('beat_event', (m) => this.onBeat(m.payload))];
  }

  protected override details(): Record<string, unknown> {
    return { signature: this.meter.signature, swing: this.config.swing, hits: this.hits };
  }

  private onBeat(beat: MessageMap['beat_event']): void {
    if (this.pattern === undefined) return;
    const options = {
      beatsPerBar: this.meter.beatsPerBar,
      swing: this.config.swing,
      velocity: this.config.velocity,
      accentVelocity: this.config.accentVelocity,
    };
    for (const hit of hitsOfBeat(this.pattern, options, beat.beat, beat.at, 60_000 / beat.bpm)) {
      this.hits += hit.hits.length;
      this.publish({
        type: 'play_drums',
        payload: { hits: hit.hits, velocity: hit.velocity, at: hit.at },
        at: hit.at,
      });
    }
  }
}
