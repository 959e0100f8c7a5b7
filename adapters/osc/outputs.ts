/**
 * The OSC adapter's output side (issue #4): bus messages to OSC targets through the output rules. A
 * message with a future `at` goes out as a bundle with that timetag when the target honours timetags,
 * else it is held and sent when due. A message that came in over OSC is never sent back to the address
 * it came from (DESIGN.md: a bridge never echoes). Failures are counted and logged, never thrown.
 */
import type { AnyMessage, BusLogger, MessageBus } from '../../daemon/bus/index.js';
import type { Timeline } from '../../daemon/kernel/scheduler.js';
import { encodeBundle, encodeMessage, msToTimetag } from './codec.js';
import { type CompiledOutput, compileOutputs, type OutputRule } from './mapping.js';
import type { OscCounters } from './osc-adapter.js';
import { OscSender, type TargetConfig, type TargetStats } from './sender.js';

/** A target with the messages sent to it once at start (AbletonOSC's listener requests). */
export type TargetSettings = TargetConfig & {
  onStart?: readonly { address: string; args?: readonly { type: string; value?: unknown }[] }[];
};

/**
 * A peer announced that it restarted and forgot what it was asked at start (AbletonOSC sends
 * `/live/startup` when Live loads it, with its listeners gone): a route publishes this type with the
 * target's name, `{ target }`, and that target's start messages are sent again.
 */
export const TARGET_RESTART = 'osc_target_restart';

/** Origins of published messages kept for the echo check (they are delivered long before this many more). */
const ORIGINS = 8_192;

type Warn = (key: string, obj: Record<string, unknown>, msg: string) => void;

export class OscOutputs {
  private compiled: CompiledOutput[];
  private readonly sender: OscSender;
  private readonly unsubscribe: (() => boolean)[] = [];
  private startOff: (() => boolean) | undefined;
  /** A ring by message id (ids only grow): no deletes, so no Map holes to skip (measured: 4.7 µs/message). */
  private readonly originIds = new Array<number>(ORIGINS).fill(-1);
  private readonly originOf = new Array<string>(ORIGINS).fill('');

  /** Compiles the rules (throws PFM_ERR_OSC_CONFIG for an unusable one); nothing opens yet. */
  constructor(
    rules: readonly OutputRule[],
    private readonly targets: Readonly<Record<string, TargetSettings>>,
    private readonly bus: MessageBus,
    private readonly scheduler: Timeline,
    private readonly counters: OscCounters,
    private readonly cancels: Set<() => void>,
    private readonly warn: Warn,
    private readonly logger: BusLogger,
  ) {
    this.compiled = compileOutputs(rules, new Set(Object.keys(targets)));
    this.sender = new OscSender(targets, (err, target) =>
      this.warn(`send:${target}`, { code: (err as { code?: string }).code, target }, err.message),
    );
  }

  /** True when some rule sends: then the adapter remembers where its messages came from. */
  get active(): boolean {
    return this.compiled.length > 0;
  }

  targetStats(): TargetStats[] {
    return this.sender.stats();
  }

  /** Opens the sockets and subscribes the rules' types. */
  async start(): Promise<void> {
    await this.sender.start();
    this.subscribeRules();
    this.startOff = this.bus.subscribe(TARGET_RESTART, (m) => this.restarted(m), { name: 'osc:restart' });
  }

  /** A target restarted ({@link TARGET_RESTART}): its start messages again. */
  private restarted(m: AnyMessage): void {
    const target = (m.payload as { target?: unknown } | null)?.target;
    if (typeof target !== 'string' || !Object.hasOwn(this.targets, target)) {
      this.warn(
        `restart:${String(target)}`,
        { code: 'PFM_ERR_OSC_CONFIG', target },
        `${TARGET_RESTART}: payload.target must name a target (known: ${Object.keys(this.targets).join(', ') || 'none'}), got ${JSON.stringify(target)}`,
      );
      return;
    }
    this.logger.info({ target }, `${target} restarted: sending its start messages again`);
    this.sendStartMessages(target);
  }

  /**
   * Replaces the output rules (a config reload): the new ones are compiled first (PFM_ERR_OSC_CONFIG
   * leaves the old ones in place), then take over from the next message on. Targets stay as they are.
   */
  setRules(rules: readonly OutputRule[]): void {
    const compiled = compileOutputs(rules, new Set(Object.keys(this.targets)));
    for (const off of this.unsubscribe.splice(0)) off();
    this.compiled = compiled;
    this.subscribeRules();
  }

  private subscribeRules(): void {
    const byType = new Map<string, CompiledOutput[]>();
    for (const o of this.compiled) byType.set(o.rule.type, [...(byType.get(o.rule.type) ?? []), o]);
    for (const [type, outs] of byType) {
      this.unsubscribe.push(
        this.bus.subscribe(type, (m) => this.output(m, outs), { name: `osc:out:${type}` }),
      );
    }
  }

  /**
   * Sends each target's start messages, or `only` that target's (call once the listeners are bound:
   * targets may answer). AbletonOSC takes a listener request it already has as a new one (handler.py
   * `_start_listen` stops the old first), so sending them again never doubles the replies.
   */
  sendStartMessages(only?: string): void {
    for (const [name, t] of Object.entries(this.targets)) {
      if (only !== undefined && name !== only) continue;
      for (const m of t.onStart ?? []) {
        try {
          this.sender.send(name, encodeMessage(m.address, m.args ?? []));
        } catch (err) {
          this.counters.encodeErrors++;
          this.logger.warn({ code: 'PFM_ERR_OSC_ENCODE', target: name }, (err as Error).message);
        }
      }
    }
  }

  async stop(): Promise<void> {
    this.startOff?.();
    this.startOff = undefined;
    for (const off of this.unsubscribe.splice(0)) off();
    await this.sender.stop();
  }

  /** Where a message the adapter published came from (`host:port`), for the echo check; bounded. */
  remember(id: number, origin: string): void {
    const slot = id % ORIGINS;
    this.originIds[slot] = id;
    this.originOf[slot] = origin;
  }

  private originFor(id: number): string | undefined {
    const slot = id % ORIGINS;
    return this.originIds[slot] === id ? this.originOf[slot] : undefined;
  }

  private output(m: AnyMessage, outs: CompiledOutput[]): void {
    // Never back to where it came from (Live's tempo would bounce back to Live); to any other target
    // it goes on (a relay).
    const origin = m.from === 'osc' ? this.originFor(m.id) : undefined;
    for (const o of outs) {
      if (!o.accepts(m)) continue;
      if (origin !== undefined && origin === this.sender.address(o.rule.target)) {
        this.counters.echoesSkipped++;
        continue;
      }
      let bytes: Uint8Array;
      try {
        bytes = encodeMessage(o.rule.address, o.args(m));
      } catch (err) {
        this.counters.encodeErrors++;
        this.warn(
          `enc:${o.rule.address}`,
          { code: 'PFM_ERR_OSC_ENCODE', messageId: m.id },
          (err as Error).message,
        );
        continue;
      }
      this.sendAt(o.rule.target, bytes, m.at);
    }
  }

  /** Sends now, or at `at`: as a bundle with that timetag when the target honours them, else when due. */
  private sendAt(target: string, bytes: Uint8Array, at: number | undefined): void {
    const sender = this.sender;
    if (at === undefined || at <= this.scheduler.now()) {
      sender.send(target, bytes);
      return;
    }
    if (sender.config(target)?.timetags) {
      try {
        sender.send(target, encodeBundle(msToTimetag(at), [bytes]));
      } catch (err) {
        this.counters.encodeErrors++;
        this.warn(`enc:${target}`, { code: 'PFM_ERR_OSC_ENCODE', target }, (err as Error).message);
      }
      return;
    }
    const cancel = this.scheduler.at(at, () => {
      this.cancels.delete(cancel as () => void);
      sender.send(target, bytes);
    });
    if (cancel === undefined) {
      // Sending now would be early: drop it, counted and said.
      this.counters.droppedOutputs++;
      this.warn(`held:${target}`, { target }, 'OSC output not sent: the scheduler is full');
    } else this.cancels.add(cancel);
  }
}
