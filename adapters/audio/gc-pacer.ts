/**
 * Periodic major garbage collection in the audio engine's process (engine-host.ts).
 *
 * Why: node-web-audio-api 1.0.9 keeps a finished node in the render graph, and its native memory,
 * until the node's JS wrapper is garbage-collected, and V8 does not see that native size. V8 collects
 * the wrappers only when its own heap (~35 KB of JS per voice here) reaches its limit. Measured on this
 * machine (2 cores), the band's lead voice through the child engine, `none` sink:
 * - 100 voices/s, V8 alone: ~450-600 finished voices pile up between its collections (every ~4.5 s),
 *   and the process's CPU climbs 20 % → 45-55 % before each one; collecting every 100 voices: CPU
 *   15-20 % and flat; every 250: ~24 %.
 * - 500 voices/s for 20 s, V8 alone: rendering falls behind (the process at 100-190 % CPU), 4,413 of
 *   9,999 voices dropped at a cap of 1,024, RSS +150 MB, JS heap 110 MB; collecting every 200 voices:
 *   none dropped, RSS flat (~190 MB), JS heap ~23 MB.
 * So the host collects after every {@link GcPacing.everyVoices} voices, or {@link GcPacing.everyMs}
 * after the first voice since the last collection, whichever comes first; never while nothing plays.
 *
 * A collection pauses the host's JS thread only (plays and clock readings wait); the render thread is
 * native and keeps rendering. Measured: 10-20 ms (a 6-10 MB heap) at 12-100 voices/s, up to ~115 ms
 * while both cores are saturated (400-500 voices/s, other work running). The band's plays reach the
 * host up to the conductor's look-ahead (100 ms by default) before their time, so a pause rarely makes
 * one late (one that is starts at once and is counted, `startedLate`); a clock reading a pause delayed
 * is rejected by its round trip (clock-mapping.ts). The pauses are counted and timed for /health.
 */

/** When to collect. */
export interface GcPacing {
  /** Collect once this many voices were played since the last collection. */
  everyVoices: number;
  /** Collect this long after the first voice played since the last collection, ms. */
  everyMs: number;
}

/** What the pacer did, for the engine's stats (/health). */
export interface GcStats {
  /** false: the process runs without `--expose-gc` (or the GC is turned off): nothing is collected. */
  enabled: boolean;
  /** Collections run. */
  count: number;
  /** Pause of the last collection, ms (0 before the first). */
  lastPauseMs: number;
  /** Longest pause, ms. */
  maxPauseMs: number;
}

/**
 * Defaults, from the measurements above. A busy band (12 voices/s) is collected every 5 s, ~60 voices'
 * nodes each time (measured: pauses 12-19 ms, the process at ~5 % CPU); a flood every 200 voices,
 * which keeps the finished voices at a few hundred and the CPU near the 100-voice figure, with half
 * as many pauses. Not config: nothing a show technician would tune.
 */
export const DEFAULT_GC_PACING: GcPacing = { everyVoices: 200, everyMs: 5000 };

/** A major collection, synchronous. */
export type Collect = () => void;

export class GcPacer {
  private readonly figures: GcStats;
  private since = 0;
  private timer: NodeJS.Timeout | undefined;
  private queued = false;
  private stopped = false;

  /**
   * `collect`: undefined when the GC is not exposed or is turned off (then the pacer only counts
   * nothing). `now`: a monotonic clock, ms.
   */
  constructor(
    private readonly pacing: GcPacing,
    private readonly collect: Collect | undefined,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.figures = { enabled: collect !== undefined, count: 0, lastPauseMs: 0, maxPauseMs: 0 };
  }

  /** `n` voices were just played. */
  played(n: number): void {
    if (n <= 0 || this.collect === undefined || this.stopped) return;
    this.since += n;
    if (this.since >= this.pacing.everyVoices) this.queue();
    else if (this.timer === undefined) {
      this.timer = setTimeout(() => this.queue(), this.pacing.everyMs);
      // The host lives by its IPC channel; a pending collection must not keep it alive.
      this.timer.unref();
    }
  }

  stats(): GcStats {
    return { ...this.figures };
  }

  /** No more collections (the engine is closing). */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /**
   * Collects on the next turn, not inside the message handler: the messages the IPC channel already
   * read are handled first.
   */
  private queue(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.queued) return;
    this.queued = true;
    setImmediate(() => {
      this.queued = false;
      if (!this.stopped) this.run();
    });
  }

  private run(): void {
    const collect = this.collect;
    if (collect === undefined) return;
    this.since = 0;
    const start = this.now();
    collect();
    const pause = this.now() - start;
    this.figures.count++;
    this.figures.lastPauseMs = pause;
    this.figures.maxPauseMs = Math.max(this.figures.maxPauseMs, pause);
  }
}
