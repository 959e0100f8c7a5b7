/**
 * The bench runner: `node --expose-gc dist/bench/run.js [group|figure ...] [--json] [--runs N]`.
 *
 * No group argument runs every group of the registry; an argument with a dot selects one figure
 * (`bus.throughput`). Each run of each figure happens in a fresh child process (worker.js) that measures
 * the figure and its baseline together; the runner takes the median of the values and the median of
 * the baselines across runs, and ratio = median value / median baseline.
 *
 * Output: one line per figure; with --json, exactly one JSON object per line per figure on stdout and
 * nothing else (children's stdout goes to stderr). Extra baselines (the EventEmitter rate of
 * bus.throughput) are in the figure's object as `extraBaselines: [{ name, value, ratio }]`.
 * Exit code: 0 when every run completed (goals not met included), 1 when a run failed, 2 on bad usage.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { DAEMON_NODE_FLAGS } from '../daemon/node-flags.js';
import { groups, loadFigures } from './registry.js';
import type { Figure, RunResult } from './types.js';
import { median } from './util.js';

const WORKER = fileURLToPath(new URL('./worker.js', import.meta.url));
/** A run that takes longer than this is stuck: kill it rather than hang the bench. */
const RUN_TIMEOUT_MS = 120_000;

interface Options {
  targets: string[];
  json: boolean;
  runs: number;
}

class UsageError extends Error {}

function parseArgs(argv: readonly string[]): Options {
  const options: Options = { targets: [], json: false, runs: 5 };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--json') options.json = true;
    else if (arg === '--runs' || arg.startsWith('--runs=')) {
      const text = arg === '--runs' ? argv[++i] : arg.slice('--runs='.length);
      const runs = Number(text);
      if (!Number.isInteger(runs) || runs < 1)
        throw new UsageError(`--runs needs an integer >= 1, got ${text}`);
      options.runs = runs;
    } else if (arg.startsWith('-')) throw new UsageError(`unknown option ${arg}`);
    else options.targets.push(arg);
  }
  return options;
}

/** The figures named by the targets (groups or `group.figure`), all groups when there is none. */
async function selectFigures(targets: readonly string[]): Promise<Figure[]> {
  if (targets.length === 0) return loadFigures(Object.keys(groups));
  const out: Figure[] = [];
  for (const target of targets) {
    const group = target.split('.')[0] ?? '';
    if (groups[group] === undefined) {
      throw new UsageError(`unknown group "${group}"; known: ${Object.keys(groups).join(', ')}`);
    }
    const figures = await loadFigures([group]);
    const chosen = target.includes('.') ? figures.filter((f) => f.name === target) : figures;
    if (chosen.length === 0) throw new UsageError(`unknown figure "${target}"`);
    for (const f of chosen) if (!out.includes(f)) out.push(f);
  }
  return out;
}

/** One run of one figure in a fresh child process. */
function runOnce(name: string): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = fork(WORKER, [name], {
      // The daemon's own V8 flags: the bus is measured as the daemon runs it.
      execArgv: ['--expose-gc', ...DAEMON_NODE_FLAGS],
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    });
    child.stdout?.pipe(process.stderr);
    let result: RunResult | undefined;
    const timer = setTimeout(() => child.kill(), RUN_TIMEOUT_MS);
    child.on('message', (message) => {
      result = message as RunResult;
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (result !== undefined && code === 0) resolve(result);
      else reject(new Error(`${name}: run failed (exit code ${code}, signal ${signal})`));
    });
  });
}

interface Summary {
  name: string;
  value: number;
  unit: string;
  baseline: number;
  baselineName: string;
  ratio: number;
  goal: string;
  met: boolean;
  extraBaselines?: { name: string; value: number; ratio: number }[];
  details?: Record<string, number>;
  runs: RunResult[];
}

/** Median of one named field across runs (skipping runs that lack it). */
function medianOf(runs: readonly RunResult[], pick: (r: RunResult) => Record<string, number> | undefined) {
  const keys = [...new Set(runs.flatMap((r) => Object.keys(pick(r) ?? {})))];
  const values = (k: string) => runs.map((r) => pick(r)?.[k]).filter((v): v is number => v !== undefined);
  return keys.map((k) => ({ name: k, value: median(values(k)) }));
}

function summarize(figure: Figure, runs: RunResult[]): Summary {
  const value = median(runs.map((r) => r.value));
  const baseline = median(runs.map((r) => r.baseline));
  const ratio = value / baseline;
  const summary: Summary = {
    name: figure.name,
    value,
    unit: figure.unit,
    baseline,
    baselineName: figure.baselineName,
    ratio,
    goal: figure.goal,
    met: figure.met(value, ratio),
    runs,
  };
  const extras = medianOf(runs, (r) => r.extraBaselines);
  if (extras.length > 0) summary.extraBaselines = extras.map((e) => ({ ...e, ratio: value / e.value }));
  const details = medianOf(runs, (r) => r.details);
  if (details.length > 0) summary.details = Object.fromEntries(details.map((d) => [d.name, d.value]));
  return summary;
}

/** Three significant digits, without exponent notation. */
function sig(v: number): string {
  return Math.abs(v) >= 1000 ? Math.round(v).toString() : Number(v.toPrecision(3)).toString();
}

function formatValue(v: number, unit: string): string {
  return unit === 'msg/s' ? `${sig(v / 1e6)} M msg/s` : `${sig(v)} ${unit}`;
}

function formatLine(s: Summary): string {
  const parts = [
    `${s.name.padEnd(30)} ${formatValue(s.value, s.unit)}`,
    `baseline ${s.baselineName} ${formatValue(s.baseline, s.unit)}`,
    `ratio ${sig(s.ratio)}`,
    ...(s.extraBaselines ?? []).map(
      (e) => `vs ${e.name} ${formatValue(e.value, s.unit)} (ratio ${sig(e.ratio)})`,
    ),
    `goal ${s.goal}: ${s.met ? 'met' : 'NOT MET'}`,
  ];
  const details = Object.entries(s.details ?? {}).map(([k, v]) => `${k} ${sig(v)}`);
  const tail = details.length > 0 ? `\n${' '.repeat(31)}(${details.join(', ')})` : '';
  return parts.join('   ') + tail;
}

async function main(): Promise<number> {
  const options = parseArgs(process.argv.slice(2));
  const figures = await selectFigures(options.targets);
  let failed = false;
  for (const figure of figures) {
    const runs: RunResult[] = [];
    try {
      for (let i = 0; i < options.runs; i++) runs.push(await runOnce(figure.name));
    } catch (err) {
      console.error(err instanceof Error ? err.message : String(err));
      failed = true;
      continue;
    }
    const summary = summarize(figure, runs);
    console.log(options.json ? JSON.stringify(summary) : formatLine(summary));
  }
  return failed ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exitCode = err instanceof UsageError ? 2 : 1;
  },
);
