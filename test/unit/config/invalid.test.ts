import { describe, expect, it } from 'vitest';
import {
  type ConfigInvalidErrorWithProblems,
  configProblemsOf,
  loadConfig,
  validateConfig,
} from '../../../config/index.js';
import { ConfigInvalidError, hasCode } from '../../../daemon/kernel/errors.js';
import { useTempFiles } from './temp-files.js';

const files = useTempFiles();

/** The ConfigInvalidError `fn` throws. */
function invalid(fn: () => unknown): ConfigInvalidErrorWithProblems {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigInvalidError) return err as ConfigInvalidErrorWithProblems;
    throw err;
  }
  throw new Error('expected a ConfigInvalidError');
}

/** The problem lines of validating `raw`. */
const linesOf = (raw: unknown): string[] =>
  configProblemsOf(invalid(() => validateConfig(raw))).map((p) => p.message);

describe('invalid configuration: one specific message per problem', () => {
  it('a port given as a string', () => {
    const err = invalid(() => validateConfig({ api: { port: 'abc' } }));
    expect(hasCode(err, 'PFM_ERR_CONFIG_INVALID')).toBe(true);
    expect(err.statusCode).toBe(400);
    expect(err.message).toBe('Invalid configuration: api.port: expected integer 0..65535, got "abc"');
    expect(err.problems).toEqual([
      {
        path: 'api.port',
        value: 'abc',
        expected: 'integer 0..65535',
        message: 'api.port: expected integer 0..65535, got "abc"',
      },
    ]);
  });

  it('a port out of range, or not whole', () => {
    expect(linesOf({ osc: { listen: { port: 65536 } } })).toEqual([
      'osc.listen.port: expected integer 0..65535, got 65536',
    ]);
    expect(linesOf({ api: { port: -1 } })).toEqual(['api.port: expected integer 0..65535, got -1']);
    expect(linesOf({ api: { port: 80.5 } })).toEqual(['api.port: expected integer 0..65535, got 80.5']);
  });

  it('an unknown key at the top level and nested, with a suggestion', () => {
    expect(linesOf({ aip: {} })).toEqual([
      'aip: unknown key, did you mean "api"? (known keys: api, bus, osc, midi, audio, listen, agents, log, daemon)',
    ]);
    expect(linesOf({ api: { prot: 8080 } })).toEqual([
      'api.prot: unknown key, did you mean "port"? (known keys: host, port, token, tokenForReads, bodyLimitBytes, rateLimit, stream)',
    ]);
    expect(linesOf({ osc: { listen: { whatever: 1 } } })).toEqual([
      'osc.listen.whatever: unknown key (known keys: host, port)',
    ]);
    const [problem] = configProblemsOf(invalid(() => validateConfig({ api: { prot: 8080 } })));
    expect(problem).toMatchObject({ path: 'api.prot', value: 8080 });
  });

  it('a bad enum value', () => {
    expect(linesOf({ log: { level: 'loud' } })).toEqual([
      'log.level: expected one of fatal, error, warn, info, debug, trace, silent, got "loud"',
    ]);
    expect(linesOf({ log: { pretty: true } })).toEqual([
      'log.pretty: expected one of auto, always, never, got true',
    ]);
  });

  it('a nested object of the wrong type', () => {
    expect(linesOf({ api: { rateLimit: 600 } })).toEqual([
      'api.rateLimit: expected mapping with keys max, timeWindowMs, got 600',
    ]);
    expect(linesOf({ bus: ['a'] })).toEqual([
      'bus: expected mapping with keys maxQueueSize, sliceMs, slowHandlerMs, timingEvery, clockReuse, statsWindowMs, stopTimeoutMs, coalesce, got ["a"]',
    ]);
    expect(linesOf({ bus: { coalesce: 'fader' } })).toEqual([
      'bus.coalesce: expected mapping of names to settings, got "fader"',
    ]);
  });

  it('coalesce rules: empty or missing `by`, wrong items, unknown keys', () => {
    expect(linesOf({ bus: { coalesce: { fader: { by: [] } } } })).toEqual([
      'bus.coalesce.fader.by: expected non-empty list of strings, got []',
    ]);
    expect(linesOf({ bus: { coalesce: { fader: {} } } })).toEqual([
      'bus.coalesce.fader.by: missing, expected non-empty list of strings',
    ]);
    expect(linesOf({ bus: { coalesce: { 'osc.fader': { by: ['x', 3], key: 'f' } } } })).toEqual([
      'bus.coalesce["osc.fader"].by[1]: expected string, got 3',
      'bus.coalesce["osc.fader"].key: unknown key (known keys: by)',
    ]);
  });

  it('numbers with exclusive and inclusive bounds, and booleans', () => {
    expect(linesOf({ bus: { sliceMs: 0 } })).toEqual(['bus.sliceMs: expected number > 0, got 0']);
    expect(linesOf({ daemon: { stopTimeoutMs: 50 } })).toEqual([
      'daemon.stopTimeoutMs: expected integer >= 100, got 50',
    ]);
    expect(linesOf({ daemon: { watchdog: 'yes' } })).toEqual([
      'daemon.watchdog: expected true or false, got "yes"',
    ]);
    expect(linesOf({ daemon: { realtimePriority: 100 } })).toEqual([
      'daemon.realtimePriority: expected integer 0..99, got 100',
    ]);
    expect(linesOf({ api: { host: '' } })).toEqual(['api.host: expected non-empty string, got ""']);
  });

  it('the API read guard and the stream caps (issue #10)', () => {
    expect(linesOf({ api: { tokenForReads: 'yes' } })).toEqual([
      'api.tokenForReads: expected true or false, got "yes"',
    ]);
    expect(linesOf({ api: { stream: { maxClients: 0, maxClientsPerAddress: 2.5 } } })).toEqual([
      'api.stream.maxClients: expected integer >= 1, got 0',
      'api.stream.maxClientsPerAddress: expected integer >= 1, got 2.5',
    ]);
    expect(validateConfig({ api: { stream: { maxClients: 3 } } }).api.stream).toEqual({
      maxBufferedBytes: 1048576,
      maxClients: 3,
      maxClientsPerAddress: 8,
    });
  });

  it('a top level that is not a mapping', () => {
    expect(linesOf(42)).toEqual([
      '(top level): expected mapping with keys api, bus, osc, midi, audio, listen, agents, log, daemon, got 42',
    ]);
  });

  // Known keys come in schema order, unknown ones after them.
  it('lists every problem, in the message and as data', () => {
    const err = invalid(() =>
      validateConfig({
        api: { port: 'abc', prot: 1, rateLimit: { max: 0 } },
        bus: { coalesce: { a: { by: [] }, b: {}, c: 3 }, sliceMs: 0 },
        log: { level: 'loud' },
        zz: 1,
      }),
    );
    const lines = [
      'api.port: expected integer 0..65535, got "abc"',
      'api.rateLimit.max: expected integer >= 1, got 0',
      'api.prot: unknown key, did you mean "port"? (known keys: host, port, token, tokenForReads, bodyLimitBytes, rateLimit, stream)',
      'bus.sliceMs: expected number > 0, got 0',
      'bus.coalesce.a.by: expected non-empty list of strings, got []',
      'bus.coalesce.b.by: missing, expected non-empty list of strings',
      'bus.coalesce.c: expected mapping with keys by, got 3',
      'log.level: expected one of fatal, error, warn, info, debug, trace, silent, got "loud"',
      'zz: unknown key (known keys: api, bus, osc, midi, audio, listen, agents, log, daemon)',
    ];
    expect(err.problems.map((p) => p.message)).toEqual(lines);
    expect(err.message).toBe(`Invalid configuration: ${lines.join('; ')}`);
  });
});

describe('invalid configuration from a file or the environment', () => {
  it('a bad environment number names the variable and the key', () => {
    const err = invalid(() => loadConfig({ env: { PERFORMIA_API_PORT: 'abc' } }));
    expect(err.message).toBe(
      'Invalid configuration: api.port (from PERFORMIA_API_PORT): expected integer 0..65535, got "abc"',
    );
    expect(err.problems[0]).toMatchObject({ path: 'api.port', env: 'PERFORMIA_API_PORT', value: 'abc' });
    expect(linesOfLoad({ PERFORMIA_OSC_PORT: '70000' })).toEqual([
      'osc.listen.port (from PERFORMIA_OSC_PORT): expected integer 0..65535, got 70000',
    ]);
    expect(linesOfLoad({ PERFORMIA_OSC_PORT: '0x10' })).toEqual([
      'osc.listen.port (from PERFORMIA_OSC_PORT): expected integer 0..65535, got "0x10"',
    ]);
    expect(linesOfLoad({ PERFORMIA_LOG_LEVEL: 'loud' })).toEqual([
      'log.level (from PERFORMIA_LOG_LEVEL): expected one of fatal, error, warn, info, debug, trace, silent, got "loud"',
    ]);
  });

  it('file problems are listed with the file, and an env variable does not hide them', () => {
    const file = files.write('bad.yaml', 'api: 5\nlog: {level: loud}\n');
    const err = invalid(() => loadConfig({ file, env: { PERFORMIA_API_PORT: '8080' } }));
    expect(err.problems.map((p) => p.message)).toEqual([
      'api: expected mapping with keys host, port, token, tokenForReads, bodyLimitBytes, rateLimit, stream, got 5',
      'log.level: expected one of fatal, error, warn, info, debug, trace, silent, got "loud"',
    ]);
    expect(err.file).toBe(file);
  });

  it('a YAML `__proto__` key is reported as unknown, not merged into the prototype', () => {
    const file = files.write('proto.yaml', '__proto__:\n  polluted: 1\n');
    expect(configProblemsOf(invalid(() => loadConfig({ file }))).map((p) => p.path)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('a cyclic YAML alias is reported, not looped on', () => {
    const file = files.write('cycle.yaml', 'bus:\n  coalesce: &x\n    fader: *x\n');
    expect(configProblemsOf(invalid(() => loadConfig({ file }))).map((p) => p.path)).toEqual([
      'bus.coalesce.fader.fader',
      'bus.coalesce.fader.by',
    ]);
  });

  it('configProblemsOf gives [] for other errors', () => {
    expect(configProblemsOf(new Error('x'))).toEqual([]);
    expect(configProblemsOf(undefined)).toEqual([]);
  });
});

function linesOfLoad(env: Record<string, string>): string[] {
  return configProblemsOf(invalid(() => loadConfig({ env }))).map((p) => p.message);
}
