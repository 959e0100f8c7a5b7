/**
 * Analytics (issue #8): watches every message on the bus (`'*'`, as an observer of nobody in
 * particular, so directed messages too), and every `intervalMs` on the timeline publishes a LOW
 * `analytics_report`: counts and rates per type over the interval, and the publish → handler latency
 * (the time its handler runs minus the message's `timestamp`) as p50, p99, mean and max. The last report
 * is kept in its health details (`lastReport`, served at GET /agents/analytics).
 *
 * Its own reports are not counted: they are the one thing it publishes, on a timer, never in answer to
 * a message, so nothing loops; leaving them out keeps the figures about the rest of the bus.
 * Reports are scheduled on an absolute series (start + k × interval), never chained intervals.
 */
import type { AnalyticsConfig } from '../config/agents-schema.js';
import { type AnyMessage, Priority } from '../daemon/bus/index.js';
import { Agent, type AgentContext, type Subscription } from './agent.js';

/** Latency samples kept per interval at most; beyond it a reservoir keeps a fair sample. */
const MAX_SAMPLES = 10_000;

/** Publish → handler latency over an interval, ms. */
export type LatencySummary = { samples: number; mean: number; p50: number; p99: number; max: number };

/** One report: what the interval saw. Plain data (it travels on the bus and over the API). */
export type AnalyticsReport = {
  /** Time of the report, bus clock, ms. */
  at: number;
  /** Length of the interval the figures cover, ms. */
  windowMs: number;
  /** Messages seen in the interval, and per second. */
  messages: number;
  ratePerSec: number;
  /** Per message type: count and rate in the interval. */
  types: Record<string, { count: number; ratePerSec: number }>;
  /** Latency over the interval; null when no message was seen. */
  latencyMs: LatencySummary | null;
  /** Messages seen per type since the agent started. */
  totals: Record<string, number>;
};

/** Nearest-rank percentile of ascending `sorted` (p in 0..1). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)]!;
}

/** The analytics agent. See the file comment. */
export class Analytics extends Agent<AnalyticsConfig> {
  private counts = new Map<string, number>();
  private totals = new Map<string, number>();
  private samples: number[] = [];
  private seen = 0;
  private sum = 0;
  private max = 0;
  /** A small deterministic generator for the reservoir (reports are reproducible in tests). */
  private seed = 0x9e3779b9;
  private origin = 0;
  private reports = 0;
  private windowStart = 0;
  private lastReport: AnalyticsReport | undefined;

  constructor(config: AnalyticsConfig, context: AgentContext, id = 'analytics') {
    super(id, config, context);
  }

  /** The last report, or undefined before the first. */
  get report(): AnalyticsReport | undefined {
    return this.lastReport;
  }

  protected subscriptions(): readonly Subscription[] {
    return [['*', (m: AnyMessage) => this.observe(m), { observe: true }]];
  }

  protected override onStart(): void {
    this.origin = this.windowStart = this.timeline.now();
    this.reports = 0;
    this.totals = new Map();
    this.reset();
    this.scheduleNext();
  }

  protected override details(): Record<string, unknown> {
    return { intervalMs: this.config.intervalMs, lastReport: this.lastReport ?? null };
  }

  private observe(message: AnyMessage): void {
    if (message.from === this.id) return;
    this.counts.set(message.type, (this.counts.get(message.type) ?? 0) + 1);
    this.totals.set(message.type, (this.totals.get(message.type) ?? 0) + 1);
    const latency = this.timeline.now() - message.timestamp;
    this.seen++;
    this.sum += latency;
    if (latency > this.max) this.max = latency;
    if (this.samples.length < MAX_SAMPLES) this.samples.push(latency);
    else {
      // Reservoir sampling (Algorithm R): each sample is kept with probability MAX_SAMPLES / seen.
      const j = this.random() % this.seen;
      if (j < MAX_SAMPLES) this.samples[j] = latency;
    }
  }

  private scheduleNext(): void {
    const time = this.origin + (this.reports + 1) * this.config.intervalMs;
    this.schedule(time, () => {
      this.reports++;
      this.publishReport();
      this.scheduleNext();
    });
  }

  private publishReport(): void {
    const now = this.timeline.now();
    const windowMs = now - this.windowStart;
    const perSec = (n: number): number => (windowMs > 0 ? (n * 1000) / windowMs : 0);
    const types: AnalyticsReport['types'] = {};
    for (const [type, count] of [...this.counts].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
      types[type] = { count, ratePerSec: perSec(count) };
    }
    const sorted = [...this.samples].sort((a, b) => a - b);
    const report: AnalyticsReport = {
      at: now,
      windowMs,
      messages: this.seen,
      ratePerSec: perSec(this.seen),
      types,
      latencyMs:
        this.seen === 0
          ? null
          : {
              samples: this.seen,
              mean: this.sum / this.seen,
              p50: percentile(sorted, 0.5),
              p99: percentile(sorted, 0.99),
              max: this.max,
            },
      totals: Object.fromEntries(this.totals),
    };
    this.lastReport = report;
    this.windowStart = now;
    this.reset();
    this.publish({ type: 'analytics_report', payload: report, priority: Priority.LOW });
  }

  private reset(): void {
    this.counts = new Map();
    this.samples = [];
    this.seen = 0;
    this.sum = 0;
    this.max = 0;
  }

  /** xorshift32: enough for a reservoir, and the same sequence every run. */
  private random(): number {
    let x = this.seed;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.seed = x >>> 0;
    return this.seed;
  }
}
