/**
 * The composition root (DESIGN.md, "The shape"; issue #3): the one place that knows every part.
 * It builds bus → adapters → agents → API from the config and starts them in that order.
 *
 * Stop order: API (no new requests) → agents (no new musical output; they unsubscribe) → bus drain
 * (everything queued is delivered to adapters that still run, so outputs get it) → adapters. This
 * bends "stop in reverse" on one point, on purpose: a bus drained after the adapters stopped would
 * deliver into closed ports. Every step has a deadline.
 */
import type { Logger } from 'pino';
import { type PerformiaConfig, redactConfig } from '../config/index.js';
import { type ApiServer, createApi } from './api/server.js';
import {
  type HealthReport,
  type PartInfo,
  type SchedulerReport,
  type StreamStats,
  TROUBLE,
} from './api/services.js';
import { dashboardAddress } from './api/ui.js';
import { MessageBus, type StopReport, systemClock } from './bus/index.js';
import {
  ApiInsecureBindError,
  ApiListenError,
  DaemonRealtimeError,
  DaemonStartError,
  DaemonStopTimeoutError,
} from './kernel/errors.js';
import type { Part, PartFactory, PartHealth } from './kernel/part.js';
import { Scheduler } from './kernel/scheduler.js';
import { createMetrics } from './metrics.js';
import { applyRealtime, type Scheduling } from './realtime.js';
import { changedKeys, isLoopback } from './reload.js';

/** Readiness and watchdog towards systemd (daemon/systemd-notify.ts); every method may be a no-op. */
export interface Notifier {
  ready(status?: string): Promise<void>;
  reloading(): Promise<void>;
  stopping(): Promise<void>;
  startWatchdog(): void;
  stop(): void;
}

/** What the daemon is built from. */
export interface DaemonOptions {
  config: PerformiaConfig;
  logger: Logger;
  /** Builds adapters and agents; later issues add theirs to `daemon/parts.ts`. */
  parts?: PartFactory[];
  notifier?: Notifier;
  /** Loads the config again (SIGHUP); throws PFM_ERR_CONFIG_INVALID or PFM_ERR_CONFIG_FILE when the new one is bad. */
  reloadConfig?: () => PerformiaConfig;
}

/** The daemon's lifecycle state. */
export type DaemonState = 'idle' | 'starting' | 'running' | 'stopping' | 'stopped' | 'failed';

interface Handle {
  part: Part;
  startError?: Error;
}

/** Runs `work` with a deadline; rejects with PFM_ERR_DAEMON_STOP_TIMEOUT naming `what`. */
async function withDeadline<T>(what: string, ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DaemonStopTimeoutError(what, ms)), ms);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** Wraps a listen failure into a message a show technician can act on. */
function listenError(host: string, port: number, err: unknown): Error {
  const code = (err as { code?: string }).code;
  const where = `${host}:${port}`;
  const reason =
    code === 'EADDRINUSE'
      ? `port ${port} is already in use by another program: stop it, or set api.port (PERFORMIA_API_PORT)`
      : code === 'EACCES'
        ? `permission denied for port ${port}: use a port above 1023`
        : code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND'
          ? `${host} is not an address of this machine: check api.host`
          : (err as Error).message;
  return new ApiListenError(where, reason, { cause: err });
}

export class Daemon {
  private config: PerformiaConfig;
  private readonly logger: Logger;
  private readonly factories: PartFactory[];
  private readonly notifier: Notifier | undefined;
  private readonly reloadConfig: (() => PerformiaConfig) | undefined;
  private state: DaemonState = 'idle';
  private bus: MessageBus | undefined;
  private scheduler: Scheduler | undefined;
  private handles: Handle[] = [];
  private api: ApiServer | undefined;
  private apiUrl = '';
  private readonly stream: StreamStats = { clients: 0, dropped: 0, sent: 0 };
  private readonly metrics;
  private readonly startedAt = Date.now();
  private stopPromise: Promise<void> | undefined;
  private busReport: StopReport | undefined;
  private realtime: Scheduling = { policy: 'unknown', priority: 0, requested: 0 };

  constructor(options: DaemonOptions) {
    this.config = options.config;
    this.logger = options.logger;
    this.factories = options.parts ?? [];
    this.notifier = options.notifier;
    this.reloadConfig = options.reloadConfig;
    this.metrics = createMetrics({
      bus: () => this.bus,
      parts: () => this.partInfos(),
      stream: () => this.stream,
      scheduler: () => this.schedulerReport(),
    });
  }

  /** The lifecycle state. */
  get status(): DaemonState {
    return this.state;
  }

  /** The API's base URL once listening (`http://127.0.0.1:7070`). */
  get url(): string {
    return this.apiUrl;
  }

  /**
   * Starts bus, adapters, agents, then the API. A part that fails to start is marked failed and the
   * daemon runs on (a missing device degrades one adapter); an API that cannot listen, or an insecure
   * bind, fails the start.
   */
  async start(): Promise<void> {
    if (this.state !== 'idle') throw new DaemonStartError('the daemon', `it is ${this.state}`);
    this.state = 'starting';
    const cfg = this.config;
    if (!isLoopback(cfg.api.host) && cfg.api.token === '') {
      this.state = 'failed';
      throw new ApiInsecureBindError(cfg.api.host);
    }
    this.bus = new MessageBus({
      ...cfg.bus,
      logger: this.logger.child({ component: 'bus' }),
      observer: this.metrics.observer,
    });
    await this.bus.start();
    this.applyRealtime(cfg.daemon.realtimePriority);
    this.scheduler = new Scheduler({ clock: systemClock });
    this.scheduler.onError = (err) => this.logger.error({ err }, 'scheduled callback failed');
    // Run the scheduler once now, so its first real event (a held bundle, a beat) does not pay for
    // compiling the timer path: measured here, that first event ran ~4 ms late otherwise.
    this.scheduler.at(systemClock() + 1, () => {});
    const ctx = {
      bus: this.bus,
      config: cfg,
      logger: this.logger,
      scheduler: this.scheduler,
      metrics: this.metrics.registry,
    };
    const parts = this.factories.flatMap((f) => f(ctx));
    // Adapters first, then agents (CONVENTIONS.md, "Lifecycle").
    this.handles = [
      ...parts.filter((p) => p.kind === 'adapter'),
      ...parts.filter((p) => p.kind === 'agent'),
    ].map((part) => ({ part }));
    try {
      for (const h of this.handles) {
        await this.startPart(h);
        if (h.startError !== undefined && h.part.critical) throw h.startError;
      }
      await this.listen(cfg);
    } catch (err) {
      this.state = 'failed';
      await this.stop();
      throw err;
    }
    this.state = 'running';
    const troubled = this.partInfos().filter((p) => TROUBLE.has(p.state));
    // The stage dashboard (issue #12) on the API's port, or why it is not there.
    const dashboard = dashboardAddress(this.apiUrl);
    this.logger.info(
      {
        api: this.apiUrl,
        dashboard,
        listeners: this.partInfos().flatMap((p) =>
          (
            (p.details?.listeners ?? []) as { protocol: string; host: string; port: number; state: string }[]
          ).map((l) => `${p.name} ${l.protocol}://${l.host}:${l.port} ${l.state}`),
        ),
        parts: this.partInfos().map((p) => `${p.name}:${p.state}`),
      },
      `performia ready: control API at ${this.apiUrl}, dashboard at ${dashboard}`,
    );
    for (const p of troubled)
      this.logger.warn({ part: p.name, state: p.state, reason: p.reason }, 'part degraded');
    await this.notifier?.ready(`API at ${this.apiUrl}`);
    if (cfg.daemon.watchdog) this.notifier?.startWatchdog();
  }

  /** Stops everything (see the file comment for the order). Idempotent. */
  stop(): Promise<void> {
    this.stopPromise ??= this.doStop();
    return this.stopPromise;
  }

  /**
   * Reloads the config (SIGHUP). A bad new config is refused with a logged reason and the running one
   * stays. Log level and token apply at once; an API address change restarts the API; bus settings
   * need a restart (logged). Returns the changed keys, or undefined when refused.
   */
  async reload(): Promise<{ changed: string[]; restartNeeded: string[] } | undefined> {
    if (this.state !== 'running' || this.reloadConfig === undefined) return undefined;
    await this.notifier?.reloading();
    try {
      let next: PerformiaConfig;
      try {
        next = this.reloadConfig();
        if (!isLoopback(next.api.host) && next.api.token === '')
          throw new ApiInsecureBindError(next.api.host);
      } catch (err) {
        this.logger.error(
          { code: (err as { code?: string }).code, err: (err as Error).message },
          'config reload refused: the running config stays',
        );
        return undefined;
      }
      return await this.apply(next);
    } finally {
      await this.notifier?.ready(`API at ${this.apiUrl}`);
    }
  }

  /** Overall health and every part's state. */
  health(): HealthReport {
    const parts = this.partInfos();
    const busState = this.bus?.status ?? 'idle';
    let status: HealthReport['status'];
    if (this.state === 'starting' || this.state === 'idle') status = 'starting';
    else if (this.state !== 'running') status = 'stopping';
    else if (busState !== 'running') status = 'failed';
    else status = parts.some((p) => TROUBLE.has(p.state)) ? 'degraded' : 'ok';
    return {
      status,
      ready: this.state === 'running',
      uptimeS: Math.round((Date.now() - this.startedAt) / 100) / 10,
      bus: { state: busState },
      scheduler: this.schedulerReport(),
      parts,
    };
  }

  private schedulerReport(): SchedulerReport {
    const s = this.scheduler;
    const ms = (v: number) => Math.round(v * 1000) / 1000;
    return {
      pending: s?.pending ?? 0,
      ran: s?.ran ?? 0,
      maxLateMs: ms(s?.maxLateMs ?? 0),
      recentMaxLateMs: ms(s?.recentMaxLateMs ?? 0),
      stalls: s?.stalls ?? 0,
      maxStallMs: ms(s?.maxStallMs ?? 0),
      realtime: this.realtime,
    };
  }

  /** Raises the event loop to SCHED_FIFO when the config asks (daemon/realtime.ts); logs the outcome. */
  private applyRealtime(priority: number): void {
    this.realtime = applyRealtime(priority);
    const { policy, priority: now, problem } = this.realtime;
    if (problem !== undefined) {
      const err = new DaemonRealtimeError(problem);
      this.logger.warn({ code: err.code, requested: priority, policy, priority: now }, err.message);
    } else if (priority > 0) this.logger.info({ policy, priority: now }, 'event loop runs at SCHED_FIFO');
  }

  /**
   * Starts or stops one agent while the daemon runs (the API's `POST /agents/:id/start|stop`). Stopping
   * twice or starting a running agent is a no-op; a start that fails leaves it `failed` with the reason.
   */
  async controlAgent(id: string, action: 'start' | 'stop'): Promise<PartInfo | undefined> {
    const h = this.handles.find((x) => x.part.kind === 'agent' && x.part.name === id);
    if (h === undefined) return undefined;
    if (this.state === 'running') {
      const state = h.startError === undefined ? h.part.health().state : 'failed';
      if (action === 'stop' && state !== 'stopped' && state !== 'idle') {
        await this.step(`agent ${id}`, this.config.daemon.stopTimeoutMs, () => h.part.stop());
        this.logger.info({ agent: id }, 'agent stopped through the API');
      } else if (action === 'start' && (state === 'stopped' || state === 'failed' || state === 'idle')) {
        h.startError = undefined;
        await this.startPart(h);
        this.logger.info({ agent: id, ok: h.startError === undefined }, 'agent started through the API');
      }
    }
    return this.partInfos().find((p) => p.name === id && p.kind === 'agent');
  }

  /** How the bus stop went (after stop). */
  get busStopReport(): StopReport | undefined {
    return this.busReport;
  }

  private partInfos(): PartInfo[] {
    return this.handles.map(({ part, startError }) => {
      let h: PartHealth;
      if (startError !== undefined) h = { state: 'failed', reason: startError.message };
      else {
        try {
          h = part.health();
        } catch (err) {
          h = { state: 'failed', reason: `health() threw: ${(err as Error).message}` };
        }
      }
      return { name: part.name, kind: part.kind, ...h };
    });
  }

  private async startPart(h: Handle): Promise<void> {
    const { part } = h;
    try {
      await withDeadline(`${part.kind} ${part.name} (start)`, this.config.daemon.stopTimeoutMs, part.start());
    } catch (err) {
      // Keep the part's own error (PFM_ERR_OSC_BIND, …): its code and message say what to do.
      h.startError =
        err instanceof Error
          ? err
          : new DaemonStartError(`${part.kind} ${part.name}`, String(err), { cause: err });
      this.logger.error(
        {
          code: 'PFM_ERR_DAEMON_START',
          cause: (err as { code?: string }).code,
          part: part.name,
          err: (err as Error).message,
        },
        `${part.kind} ${part.name} failed to start`,
      );
    }
  }

  private async listen(cfg: PerformiaConfig): Promise<void> {
    const api = await createApi(
      {
        bus: () => this.bus as MessageBus,
        health: () => this.health(),
        parts: () => this.partInfos(),
        config: () => redactConfig(this.config),
        token: () => this.config.api.token,
        tokenForReads: () => this.config.api.tokenForReads,

        metrics: this.metrics.registry,
        stream: this.stream,
        controlAgent: (id, action) => this.controlAgent(id, action),
      },
      cfg.api,
      this.logger.child({ component: 'api' }),
    );
    try {
      await api.listen({ host: cfg.api.host, port: cfg.api.port });
    } catch (err) {
      await api.close().catch(() => {
        // Closing a server that never listened: nothing left to release, the listen error is reported.
      });
      throw listenError(cfg.api.host, cfg.api.port, err);
    }
    const addr = api.server.address();
    const port = typeof addr === 'object' && addr !== null ? addr.port : cfg.api.port;
    const host = cfg.api.host.includes(':') ? `[${cfg.api.host}]` : cfg.api.host;
    const old = this.api;
    this.api = api;
    this.apiUrl = `http://${host}:${port}`;
    if (old !== undefined) await old.close();
  }

  private async apply(next: PerformiaConfig): Promise<{ changed: string[]; restartNeeded: string[] }> {
    const changed = changedKeys(this.config, next);
    // Log level and the API apply at once, and what a running part reloads (its `reloadable` keys, e.g.
    // the OSC routes); the rest (the bus, sockets, the daemon's own settings) at restart.
    const hot = this.handles
      .filter((h) => h.startError === undefined && h.part.reconfigure !== undefined)
      .flatMap((h) => h.part.reloadable ?? []);
    const restartNeeded = changed.filter(
      (k) =>
        !k.startsWith('log.') &&
        !k.startsWith('api.') &&
        !hot.some((prefix) => k === prefix || k.startsWith(`${prefix}.`)),
    );
    const apiMoved = changed.some((k) => /^api\.(host|port|bodyLimitBytes|rateLimit|stream)/.test(k));
    const previous = this.config;
    this.config = next;
    this.logger.level = next.log.level;
    if (apiMoved) {
      // The same address: same host, and the same port as configured or as bound (a config on port 0).
      const bound = this.apiUrl === '' ? -1 : Number(new URL(this.apiUrl).port);
      const samePlace =
        next.api.host === previous.api.host &&
        (next.api.port === previous.api.port || next.api.port === bound);
      try {
        // On the same address the old server must let go of the port first (a short gap in service);
        // on a new one, the old server stays until the new one listens.
        if (samePlace) {
          const old = this.api;
          this.api = undefined;
          await old?.close();
        }
        await this.listen(next);
      } catch (err) {
        // Keep the new token (it applies at once either way); the rest of `api` stays as it was.
        this.config = { ...next, api: { ...previous.api, token: next.api.token } };
        if (samePlace) {
          await this.listen(this.config).catch((again: unknown) => {
            this.logger.error(
              { code: (again as { code?: string }).code, err: (again as Error).message },
              'API is down',
            );
          });
        }
        this.logger.error(
          { code: (err as { code?: string }).code, err: (err as Error).message },
          'API settings not applied: the API keeps its previous ones',
        );
      }
    }
    for (const { part, startError } of this.handles) {
      if (startError !== undefined || part.reconfigure === undefined) continue;
      const missed = await part.reconfigure(this.config);
      for (const k of changed) {
        const covered = missed.some((prefix) => k === prefix || k.startsWith(`${prefix}.`));
        if (covered && !restartNeeded.includes(k)) restartNeeded.push(k);
      }
    }
    this.logger.info({ changed, restartNeeded }, 'config reloaded');
    if (restartNeeded.length > 0)
      this.logger.warn({ keys: restartNeeded }, 'these settings apply after a restart');
    return { changed, restartNeeded };
  }

  private async doStop(): Promise<void> {
    if (this.state === 'idle' || this.state === 'stopped') {
      this.state = 'stopped';
      return;
    }
    this.state = 'stopping';
    const deadline = this.config.daemon.stopTimeoutMs;
    this.logger.info('performia stopping');
    await this.notifier?.stopping();
    await this.step('API', deadline, async () => {
      await this.api?.close();
    });
    await this.stopParts('agent');
    if (this.bus !== undefined) {
      const bus = this.bus;
      await this.step('bus', this.config.bus.stopTimeoutMs + 1_000, async () => {
        this.busReport = await bus.stop({ drain: true, timeoutMs: this.config.bus.stopTimeoutMs });
      });
      const s = bus.getStats();
      this.logger.info(
        {
          ...this.busReport,
          published: s.published,
          delivered: s.delivered,
          refused: s.refused,
          evicted: s.evicted,
        },
        'bus drained',
      );
    }
    await this.stopParts('adapter');
    this.scheduler?.stop();
    this.notifier?.stop();
    this.state = 'stopped';
    this.logger.info('performia stopped');
  }

  private async stopParts(kind?: Part['kind']): Promise<void> {
    const handles = this.handles.filter((h) => kind === undefined || h.part.kind === kind).reverse();
    for (const { part } of handles) {
      await this.step(`${part.kind} ${part.name}`, this.config.daemon.stopTimeoutMs, () => part.stop());
    }
  }

  private async step(what: string, ms: number, work: () => Promise<void>): Promise<void> {
    try {
      await withDeadline(what, ms, work());
    } catch (err) {
      this.logger.error(
        { code: (err as { code?: string }).code, part: what, err: (err as Error).message },
        'stop step failed',
      );
    }
  }
}
