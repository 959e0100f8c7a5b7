/**
 * What the control API may use: services injected by the daemon (CONVENTIONS.md: "routes never reach
 * into an adapter's guts"). Everything is read through functions, so a config reload is seen at once.
 */
import type { Registry } from 'prom-client';
import type { MessageBus } from '../bus/index.js';
import type { PartHealth, PartState } from '../kernel/part.js';

/** One part as `/agents`, `/adapters` and `/health` show it. */
export interface PartInfo extends PartHealth {
  name: string;
  kind: 'adapter' | 'agent';
}

/** The daemon's overall health. */
export interface HealthReport {
  /** ok: everything ok; degraded: a part is degraded or failed; failed: the bus is not running. */
  status: 'ok' | 'degraded' | 'failed' | 'starting' | 'stopping';
  /** True once every part was started and the API listens. */
  ready: boolean;
  uptimeS: number;
  bus: { state: string };
  /** The scheduler of timed events; `stalls`: timer turns the machine kept the process from running. */
  scheduler: SchedulerReport;
  parts: PartInfo[];
}

/** The scheduler's figures in /health (times in ms). */
export interface SchedulerReport {
  pending: number;
  ran: number;
  maxLateMs: number;
  /** The latest over the last 10–20 s. */
  recentMaxLateMs: number;
  stalls: number;
  maxStallMs: number;
  /** The event loop's scheduling policy (config `daemon.realtimePriority`, daemon/realtime.ts). */
  realtime: { policy: string; priority: number; requested: number; problem?: string };
}

/** WebSocket stream figures (the stream route updates them). */
export interface StreamStats {
  clients: number;
  dropped: number;
  sent: number;
  /**
   * Clients refused at the caps (issue #10), by the config key of the cap they hit; the stream route
   * creates it when the daemon did not.
   */
  refused?: StreamRefusals;
}

/** Counts of /stream clients refused, by the cap (`api.stream.<key>`) they hit. */
export interface StreamRefusals {
  maxClients: number;
  maxClientsPerAddress: number;
}

/** The API's view of the daemon. */
export interface ApiServices {
  bus(): MessageBus;
  health(): HealthReport;
  parts(): PartInfo[];
  /** The effective config with secrets redacted. */
  config(): unknown;
  /** The bearer token mutating routes need ('' = none). */
  token(): string;
  /**
   * `api.tokenForReads`, read live so a reload applies at once like {@link token}; when the daemon
   * does not give it, the value the API was built with (its settings) holds until the API restarts.
   */
  tokenForReads?(): boolean;
  metrics: Registry;
  stream: StreamStats;
  /**
   * Starts or stops an agent at runtime (`POST /agents/:id/start|stop`); resolves with its state after,
   * or undefined when there is no agent of that name.
   */
  controlAgent(id: string, action: 'start' | 'stop'): Promise<PartInfo | undefined>;
}

/** The states that count as trouble in /health. */
export const TROUBLE: ReadonlySet<PartState> = new Set<PartState>(['degraded', 'failed']);
