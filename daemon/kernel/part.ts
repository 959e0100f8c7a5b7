/**
 * The one small interface through which adapters and agents join the daemon (issue #3): the
 * composition root starts, stops and watches every part the same way, so later issues add parts
 * without touching its logic.
 */
import type { Registry } from 'prom-client';
import type { PerformiaConfig } from '../../config/index.js';
import type { BusLogger, MessageBus } from '../bus/index.js';
import type { Timeline } from './scheduler.js';

/** A part's state, as `/health` shows it. */
export type PartState = 'idle' | 'starting' | 'ok' | 'degraded' | 'failed' | 'stopping' | 'stopped';

/** A part's health: its state, and why when it is not ok. */
export interface PartHealth {
  state: PartState;
  reason?: string;
  /** Figures of the part's own (packets, errors, last error…), plain data. */
  details?: Record<string, unknown>;
}

/** An adapter or an agent, as the daemon runs it. */
export interface Part {
  readonly name: string;
  readonly kind: 'adapter' | 'agent';
  /** When true, a failed start fails the daemon's start (e.g. `osc.onBindError: fail`). */
  readonly critical?: boolean;
  /** Resolves when the part is really ready (socket bound, port open). */
  start(): Promise<void>;
  /** Idempotent; releases every timer, socket and device. */
  stop(): Promise<void>;
  health(): PartHealth;
  /**
   * Takes a reloaded config (SIGHUP); resolves with the `reloadable` keys it could not apply (they wait
   * for a restart, and the reload says so). Without it, a config change reaches the part at next start.
   */
  reconfigure?(config: PerformiaConfig): Promise<readonly string[]>;
  /**
   * The config keys (dotted paths, e.g. `osc.routes`) that `reconfigure` applies at once; a reload
   * reports every other changed key of the part as needing a restart.
   */
  readonly reloadable?: readonly string[];
}

/** What a part factory is given. */
export interface PartContext {
  bus: MessageBus;
  config: PerformiaConfig;
  logger: BusLogger & { child(bindings: Record<string, unknown>): PartContext['logger'] };
  /** Runs callbacks at absolute times on the bus clock (held bundles, messages with a future `at`). */
  scheduler: Timeline;
  /** The daemon's Prometheus registry, for the part's own metrics. */
  metrics: Registry;
}

/** Builds the parts of one kind from the config (none, one or several). */
export type PartFactory = (ctx: PartContext) => Part[];
