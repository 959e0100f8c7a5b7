/**
 * The agents' tests run on a virtual clock with a real bus: the bus clock is the VirtualScheduler's,
 * every publish is stamped exactly (clockReuse 1), and time moves in steps with the bus drained after
 * each, as the event loop would between two timer turns.
 */
import Value from 'typebox/value';
import {
  type AgentsConfig,
  AgentsSchema,
  type BassConfig,
  type ConductorConfig,
  type DrumsConfig,
  type HarmonyConfig,
} from '../../../config/agents-schema.js';
import { type AnyMessage, type BusLogger, type Message, MessageBus } from '../../../daemon/bus/index.js';
import { VirtualScheduler } from '../../../daemon/kernel/virtual-scheduler.js';
import { idle } from '../../helpers/bus.js';

/** The default `agents` section, with parts replaced. */
export function agentsConfig(): AgentsConfig {
  return Value.Default(AgentsSchema, {}) as AgentsConfig;
}

export const conductorConfig = (over: Partial<ConductorConfig> = {}): ConductorConfig => ({
  ...agentsConfig().conductor,
  ...over,
});
export const bassConfig = (over: Partial<BassConfig> = {}): BassConfig => ({
  ...agentsConfig().bass,
  ...over,
});
export const drumsConfig = (over: Partial<DrumsConfig> = {}): DrumsConfig => ({
  ...agentsConfig().drums,
  ...over,
});
export const harmonyConfig = (over: Partial<HarmonyConfig> = {}): HarmonyConfig => ({
  ...agentsConfig().harmony,
  ...over,
});

/** A logger that keeps its lines. */
export function memoryLogger(): BusLogger & { lines: { level: string; obj: object; msg?: string }[] } {
  const lines: { level: string; obj: object; msg?: string }[] = [];
  const at = (level: string) => (obj: object, msg?: string) => {
    lines.push({ level, obj, msg });
  };
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** A started bus on a virtual clock, every message it delivers (in delivery order), and time control. */
export class Band {
  readonly clock: VirtualScheduler;
  readonly bus: MessageBus;
  /** Every message, in the order the bus delivered them. */
  readonly seen: AnyMessage[] = [];

  constructor(start = 1_000) {
    this.clock = new VirtualScheduler(start);
    this.bus = new MessageBus({ clock: () => this.clock.now(), clockReuse: 1, timingEvery: 1 });
    this.bus.subscribe('*', (m) => {
      this.seen.push(m);
    });
  }

  get context() {
    return { bus: this.bus, scheduler: this.clock };
  }

  async start(): Promise<this> {
    await this.bus.start();
    return this;
  }

  /** Lets the bus deliver everything pending. */
  settle(): Promise<void> {
    return idle(this.bus);
  }

  /** Moves time to `time` in steps of at most `stepMs`, the bus drained after each. */
  async runTo(time: number, stepMs = 10): Promise<void> {
    await this.settle();
    while (this.clock.now() < time) {
      this.clock.advanceTo(Math.min(time, this.clock.now() + stepMs));
      await this.settle();
    }
  }

  /** Messages of one type, in delivery order. */
  of<T extends string>(type: T): Message<T>[] {
    return this.seen.filter((m) => m.type === type) as Message<T>[];
  }

  async stop(): Promise<void> {
    this.clock.stop();
    await this.bus.stop({ drain: false });
  }
}
