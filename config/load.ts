/**
 * Loads the configuration (issue "Config (config/)"): embedded default <- YAML file <- environment,
 * validated against the one schema and deep-frozen. Nothing here reads `process.env`: the caller passes
 * the environment in (CONVENTIONS.md, "Logging and config").
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import Value from 'typebox/value';
import { parseDocument, stringify } from 'yaml';
import { ConfigFileError, ConfigInvalidError } from '../daemon/kernel/errors.js';
import { deepFreeze } from './deep-freeze.js';
import { withDefaults } from './defaults.js';
import { findListenProblems } from './listen-rules.js';
import { findMidiProblems } from './midi-rules.js';
import { findOscProblems } from './osc-rules.js';
import { applyPresets } from './presets.js';
import { type ConfigProblem, findProblems, isPlainObject } from './problems.js';
import { ConfigSchema, DEFAULT_CONFIG, type PerformiaConfig } from './schema.js';

/** Where {@link loadConfig} takes its sources from. */
export interface LoadConfigOptions {
  /** The YAML file; without it, `env.PERFORMIA_CONFIG`; without that, the embedded default alone. */
  file?: string;
  /** The environment to read overrides from (the daemon passes `process.env`). */
  env?: Record<string, string | undefined>;
}

/** An environment variable that overrides one key of the config. */
export interface ConfigEnvOverride {
  readonly name: string;
  /** Dotted key path it sets. */
  readonly key: string;
  /** Numbers are converted from the variable's text; a non-numeric text is reported, naming both. */
  readonly kind: 'string' | 'number';
}

/** The environment variables {@link loadConfig} reads, besides `PERFORMIA_CONFIG` (the file). */
export const CONFIG_ENV_OVERRIDES: readonly ConfigEnvOverride[] = Object.freeze([
  { name: 'PERFORMIA_API_HOST', key: 'api.host', kind: 'string' },
  { name: 'PERFORMIA_API_PORT', key: 'api.port', kind: 'number' },
  { name: 'PERFORMIA_API_TOKEN', key: 'api.token', kind: 'string' },
  { name: 'PERFORMIA_LOG_LEVEL', key: 'log.level', kind: 'string' },
  { name: 'PERFORMIA_OSC_PORT', key: 'osc.listen.port', kind: 'number' },
  { name: 'PERFORMIA_MIDI_PORT', key: 'midi.network.port', kind: 'number' },
]);

/** What `api.token` shows as in {@link formatConfig} and {@link redactConfig} when it is set. */
export const REDACTED = '<redacted>';

/** A {@link ConfigInvalidError} with its problems as data, for the CLI to print. */
export type ConfigInvalidErrorWithProblems = InstanceType<typeof ConfigInvalidError> & {
  problems: readonly ConfigProblem[];
  /** The config file the values came from, if any. */
  file?: string;
};

/**
 * Loads the effective configuration: the embedded default, deep-merged with the YAML file (mappings
 * merge key by key; lists and scalars replace), then the environment overrides of
 * {@link CONFIG_ENV_OVERRIDES}, then the OSC presets of `osc.presets` (presets.ts), then the schema
 * defaults inside lists and named entries (an `osc.targets` entry's `protocol`). An empty environment
 * variable counts as unset.
 *
 * @returns the config, deep-frozen.
 * @throws ConfigFileError (`PFM_ERR_CONFIG_FILE`) when the file cannot be read, is not valid YAML, or its
 *   top level is not a mapping. An empty file means "no overrides".
 * @throws ConfigInvalidError (`PFM_ERR_CONFIG_INVALID`) listing every problem; its `problems` property
 *   holds them as data.
 */
export function loadConfig(options: LoadConfigOptions = {}): PerformiaConfig {
  const env = options.env ?? {};
  const file = options.file ?? nonEmpty(env.PERFORMIA_CONFIG);
  const fromFile = file === undefined ? undefined : readConfigFile(file);
  const { value, sources } = applyEnv(mergeConfig(DEFAULT_CONFIG, fromFile), env);
  return check(value, sources, file === undefined ? undefined : resolve(file));
}

/**
 * Validates a raw config object (e.g. parsed from a request body): schema defaults are applied to
 * missing keys and the OSC presets merged, as {@link loadConfig} does, then every key is checked.
 *
 * @returns the config, deep-frozen (a copy: `raw` is neither changed nor frozen).
 * @throws ConfigInvalidError (`PFM_ERR_CONFIG_INVALID`) listing every problem.
 */
export function validateConfig(raw: unknown): PerformiaConfig {
  return check(mergeConfig(DEFAULT_CONFIG, raw), new Map());
}

/**
 * The config as an object fit to show (GET /config): `api.token` is `'<redacted>'` when set and `''`
 * when not. Deep-frozen.
 */
export function redactConfig(config: PerformiaConfig): PerformiaConfig {
  const copy = structuredClone(config);
  copy.api.token = config.api.token === '' ? '' : REDACTED;
  return deepFreeze(copy);
}

/**
 * The config as YAML text, loadable again as a config file. With `redact` (the default) `api.token`
 * shows as `'<redacted>'` when set; with `redact: false` the text holds the real token.
 */
export function formatConfig(config: PerformiaConfig, options: { redact?: boolean } = {}): string {
  const { redact = true } = options;
  return stringify(redact ? redactConfig(config) : config);
}

/** The problems of a config error, or `[]` for any other error. */
export function configProblemsOf(err: unknown): readonly ConfigProblem[] {
  const problems = (err as { problems?: unknown } | null)?.problems;
  return Array.isArray(problems) ? (problems as ConfigProblem[]) : [];
}

/**
 * Completes a merged config (presets, then defaults, so a preset's target keys fill what yours leave
 * out before a schema default does) and checks it: the schema walk, then the rules across keys. On
 * success returns a frozen copy, so nothing of the caller's input is frozen.
 */
function check(merged: unknown, sources: ReadonlyMap<string, string>, file?: string): PerformiaConfig {
  const value = withDefaults(ConfigSchema, applyPresets(merged));
  let problems = [
    ...findProblems(ConfigSchema, value, sources),
    ...findOscProblems(value),
    ...findMidiProblems(value),
    ...findListenProblems(value),
  ];
  if (problems.length === 0 && !Value.Check(ConfigSchema, value)) {
    // Safety net: our walk covers the keywords the schema uses today; if someone adds one it does not
    // know, TypeBox still refuses the value, with its own (plainer) words.
    problems = Value.Errors(ConfigSchema, value).map((e) => {
      const path = e.instancePath.split('/').slice(1).join('.') || '(top level)';
      return { path, value: undefined, expected: e.message, message: `${path}: ${e.message}` };
    });
  }
  if (problems.length > 0) {
    const err = new ConfigInvalidError(problems.map((p) => p.message).join('; '));
    throw Object.assign(err, file === undefined ? { problems } : { problems, file });
  }
  return deepFreeze(structuredClone(value) as PerformiaConfig);
}

/** Reads and parses the YAML file; `undefined` for an empty one (no overrides). */
function readConfigFile(file: string): Record<string, unknown> | undefined {
  const path = resolve(file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new ConfigFileError(path, readFailure(cause), { cause });
  }
  const doc = parseDocument(text);
  const [first, ...more] = doc.errors;
  if (first !== undefined) {
    const where =
      first.linePos === undefined ? '' : ` at line ${first.linePos[0].line}, column ${first.linePos[0].col}`;
    // yaml's message repeats the position and adds a source excerpt on the following lines: keep the words.
    const what = (first.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');
    const others =
      more.length === 0 ? '' : ` (and ${more.length} more YAML error${more.length > 1 ? 's' : ''})`;
    throw new ConfigFileError(path, `invalid YAML${where}: ${what}${others}`, { cause: first });
  }
  const data: unknown = doc.toJS();
  if (data === null || data === undefined) return undefined;
  if (!isPlainObject(data)) {
    const kind = Array.isArray(data) ? 'a list' : `a ${typeof data} (${JSON.stringify(data)})`;
    throw new ConfigFileError(path, `the top level must be a mapping of settings (key: value), got ${kind}`);
  }
  return data;
}

function readFailure(cause: unknown): string {
  const code = (cause as NodeJS.ErrnoException | null)?.code;
  if (code === 'ENOENT') return 'file not found';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'it is a directory, not a file';
  return cause instanceof Error ? cause.message : String(cause);
}

/**
 * Deep merge: mappings merge key by key, lists and scalars replace. A `null` where the base holds a
 * mapping keeps the base: in YAML, `api:` with every line under it commented out is null, and it means
 * "no overrides" just as an empty file does. Nothing is mutated; untouched branches are shared.
 */
function mergeConfig(base: unknown, override: unknown): unknown {
  if (override === undefined) return base;
  if (override === null && isPlainObject(base)) return base;
  if (!isPlainObject(base) || !isPlainObject(override)) return override;
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(override)) {
    // defineProperty, not `out[key] =`: a YAML key `__proto__` must stay an own key (and be reported as
    // unknown), not replace the object's prototype.
    Object.defineProperty(out, key, {
      value: mergeConfig(base[key], value),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

/** Applies the environment overrides; `sources` maps each key set to its variable, for the problems. */
function applyEnv(
  value: unknown,
  env: Record<string, string | undefined>,
): { value: unknown; sources: Map<string, string> } {
  const sources = new Map<string, string>();
  let out = value;
  for (const { name, key, kind } of CONFIG_ENV_OVERRIDES) {
    const text = nonEmpty(env[name]);
    if (text === undefined) continue;
    out = setIn(out, key.split('.'), kind === 'number' ? toNumber(text) : text);
    sources.set(key, name);
  }
  return { value: out, sources };
}

/** The number a variable spells, or the text itself so validation reports it with its variable. */
function toNumber(text: string): number | string {
  const trimmed = text.trim();
  // A strict pattern: Number() would also take '', '0x1f' and ' ', which no one means as a port.
  return /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(trimmed) ? Number(trimmed) : text;
}

/**
 * `root` with `value` at `path`, copying the objects on the way. If a parent is not a mapping (the file
 * set `api: 5`), nothing is set: that parent's own problem is what gets reported.
 */
function setIn(root: unknown, path: readonly string[], value: unknown): unknown {
  const [head, ...rest] = path;
  if (head === undefined) return value;
  if (!isPlainObject(root)) return root;
  return { ...root, [head]: setIn(root[head], rest, value) };
}

function nonEmpty(text: string | undefined): string | undefined {
  return text === undefined || text === '' ? undefined : text;
}
