/**
 * The contract between the runner, the worker and the figure modules.
 *
 * A figure measures one number and its baseline in the same child process, so both see the same
 * machine state; the runner repeats that in several children and takes medians.
 */

/** What one run of a figure measures (sent from the worker to the runner over IPC: plain data only). */
export interface RunResult {
  value: number;
  baseline: number;
  /** Further baselines measured in the same run, by name (e.g. EventEmitter for throughput). */
  extraBaselines?: Record<string, number>;
  /** Side figures worth keeping in the JSON (e.g. p50 next to a p99), by name. */
  details?: Record<string, number>;
}

/** One benchmark figure. */
export interface Figure {
  /** `<group>.<figure>`, e.g. `bus.throughput`. */
  readonly name: string;
  readonly unit: string;
  /** What the baseline is, for humans. */
  readonly baselineName: string;
  /** The goal, for humans, e.g. `< 150 ns`. */
  readonly goal: string;
  /** Whether the goal is met by the medians; `ratio` = value / baseline. */
  met(value: number, ratio: number): boolean;
  /** Measures once; called in a fresh child process started with --expose-gc. */
  run(): Promise<RunResult>;
}

/** A group's figures, loaded on demand so a group's dependencies load only when it runs. */
export type GroupLoader = () => Promise<readonly Figure[]>;
