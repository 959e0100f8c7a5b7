/**
 * The bus and scheduler figures the page plots, made from successive GET /stats and GET /health
 * answers: rates per priority from the counters' differences, queue depth, refusals and evictions per
 * second, delivery latency p50/p99 (the bus's own sliding window, daemon/bus/latency-window.ts), the
 * scheduler's lateness and stalls. Pure and DOM-free.
 */
import { Series } from './series.js';
import { type BusStats, type Health, PRIORITIES } from './types.js';

/** Points kept per plot: one a second, five minutes. */
export const HISTORY_POINTS = 300;

interface StatsReading {
  at: number;
  stats: BusStats;
}

interface HealthReading {
  at: number;
  stalls: number;
}

/** The bus plots' series, fed with each answer. */
export class BusFigures {
  readonly rates = new Series(PRIORITIES, HISTORY_POINTS);
  readonly depth = new Series(PRIORITIES, HISTORY_POINTS);
  readonly losses = new Series(['refused/s', 'evicted/s'], HISTORY_POINTS);
  readonly latency = new Series(['p50 µs', 'p99 µs'], HISTORY_POINTS);
  // /health comes twice a second: twice the points for the same minutes.
  readonly scheduler = new Series(['late ms (max, last 10 s)', 'stalls/s'], HISTORY_POINTS * 2);
  /** Totals since the daemon started, from the last /stats answer. */
  totals = { refused: 0, evicted: 0, published: 0, handlerErrors: 0 };
  private lastStats: StatsReading | undefined;
  private lastHealth: HealthReading | undefined;

  /** One /stats answer read at `at` (page clock, ms). */
  addStats(stats: BusStats, at: number): void {
    const prev = this.lastStats;
    this.lastStats = { at, stats };
    this.totals = {
      refused: stats.refused,
      evicted: stats.evicted,
      published: stats.published,
      handlerErrors: stats.handlerErrors,
    };
    const x = at / 1000;
    this.depth.push(
      x,
      PRIORITIES.map((p) => stats.queueDepth[p]),
    );
    const lat = stats.deliveryLatencyUs;
    this.latency.push(x, lat.count > 0 ? [lat.p50, lat.p99] : [null, null]);
    // A counter that went down: the daemon restarted, there is no difference to take this time.
    if (prev === undefined || stats.published < prev.stats.published || at <= prev.at) return;
    const dt = (at - prev.at) / 1000;
    const rate = (now: number, before: number) => Math.max(0, now - before) / dt;
    this.rates.push(
      x,
      PRIORITIES.map((p) => rate(stats.byPriority[p].published, prev.stats.byPriority[p].published)),
    );
    this.losses.push(x, [rate(stats.refused, prev.stats.refused), rate(stats.evicted, prev.stats.evicted)]);
  }

  /** One full /health answer read at `at`. */
  addHealth(health: Health, at: number): void {
    const prev = this.lastHealth;
    const { stalls, maxLateMs, recentMaxLateMs } = health.scheduler;
    this.lastHealth = { at, stalls };
    if (prev === undefined || stalls < prev.stalls || at <= prev.at) return;
    // The recent figure (last 10–20 s): the since-start maximum would pin one late timer at boot
    // forever. A daemon from before it had only the maximum.
    const late = recentMaxLateMs ?? maxLateMs;
    this.scheduler.push(at / 1000, [late, (stalls - prev.stalls) / ((at - prev.at) / 1000)]);
  }
}
