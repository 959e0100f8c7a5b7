import { describe, expect, it } from 'vitest';
import {
  DEFAULT_CONFIG,
  formatConfig,
  loadConfig,
  type PerformiaConfig,
  redactConfig,
  validateConfig,
} from '../../../config/index.js';
import { hasCode } from '../../../daemon/kernel/errors.js';
import { useTempFiles } from './temp-files.js';

const files = useTempFiles();

function isDeepFrozen(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return true;
  return Object.isFrozen(value) && Object.values(value).every(isDeepFrozen);
}

describe('loadConfig: sources', () => {
  it('with no file and no environment, is the embedded default', () => {
    expect(loadConfig({})).toEqual(DEFAULT_CONFIG);
    expect(loadConfig()).toEqual(DEFAULT_CONFIG);
  });

  it('a YAML file overrides parts; the rest keeps its defaults', () => {
    const file = files.write(
      'performia.yaml',
      [
        'api:',
        '  port: 8080',
        '  rateLimit:',
        '    max: 10',
        'bus:',
        '  coalesce:',
        '    fader: { by: [channel, control] }',
        'log:',
        '  level: debug',
      ].join('\n'),
    );
    const config = loadConfig({ file });
    expect(config.api).toEqual({
      ...DEFAULT_CONFIG.api,
      port: 8080,
      rateLimit: { max: 10, timeWindowMs: 1000 },
    });
    // Mappings merge: the default control_change rule stays beside the file's own.
    expect(config.bus.coalesce).toEqual({
      control_change: { by: ['channel', 'controller'] },
      fader: { by: ['channel', 'control'] },
    });
    expect(config.log).toEqual({ level: 'debug', pretty: 'auto' });
    expect(config.osc).toEqual(DEFAULT_CONFIG.osc);
    expect(config.daemon).toEqual(DEFAULT_CONFIG.daemon);
  });

  it('an empty file, or an empty section, means no overrides', () => {
    expect(loadConfig({ file: files.write('empty.yaml', '') })).toEqual(DEFAULT_CONFIG);
    expect(loadConfig({ file: files.write('comments.yaml', '# nothing yet\n') })).toEqual(DEFAULT_CONFIG);
    expect(loadConfig({ file: files.write('section.yaml', 'api:\n  # port: 1\n') })).toEqual(DEFAULT_CONFIG);
  });

  it('environment overrides win over the file', () => {
    const file = files.write(
      'p.yaml',
      'api:\n  port: 8080\n  host: 0.0.0.0\n  token: from-file\nlog: {level: warn}\n',
    );
    const config = loadConfig({
      file,
      env: {
        PERFORMIA_API_PORT: '9090',
        PERFORMIA_API_HOST: '::1',
        PERFORMIA_API_TOKEN: 's3cret',
        PERFORMIA_LOG_LEVEL: 'trace',
        PERFORMIA_OSC_PORT: '9000',
      },
    });
    expect(config.api.port).toBe(9090);
    expect(config.api.host).toBe('::1');
    expect(config.api.token).toBe('s3cret');
    expect(config.log.level).toBe('trace');
    expect(config.osc.listen.port).toBe(9000);
  });

  it('an empty environment variable counts as unset', () => {
    const file = files.write('p.yaml', 'api: {port: 8080}\n');
    expect(loadConfig({ file, env: { PERFORMIA_API_PORT: '', PERFORMIA_CONFIG: '' } }).api.port).toBe(8080);
  });

  it('PERFORMIA_CONFIG names the file; options.file wins over it', () => {
    const fromEnv = files.write('env.yaml', 'osc: {listen: {port: 6000}}\n');
    const fromOption = files.write('option.yaml', 'osc: {listen: {port: 7000}}\n');
    expect(loadConfig({ env: { PERFORMIA_CONFIG: fromEnv } }).osc.listen.port).toBe(6000);
    expect(loadConfig({ file: fromOption, env: { PERFORMIA_CONFIG: fromEnv } }).osc.listen.port).toBe(7000);
  });

  it('lists replace, they are not concatenated', () => {
    const base = files.write('a.yaml', 'bus: {coalesce: {fader: {by: [a, b]}}}\n');
    const raw = { bus: { coalesce: { fader: { by: ['c'] } } } };
    expect(loadConfig({ file: base }).bus.coalesce.fader?.by).toEqual(['a', 'b']);
    expect(validateConfig(raw).bus.coalesce.fader?.by).toEqual(['c']);
  });

  it('every port accepts 0, from the file and from the environment', () => {
    const file = files.write('zero.yaml', 'api: {port: 0}\nosc: {listen: {port: 0}}\n');
    const config = loadConfig({ file });
    expect([config.api.port, config.osc.listen.port]).toEqual([0, 0]);
    const fromEnv = loadConfig({ env: { PERFORMIA_API_PORT: '0', PERFORMIA_OSC_PORT: '0' } });
    expect([fromEnv.api.port, fromEnv.osc.listen.port]).toEqual([0, 0]);
  });

  it('returns a deep-frozen config and leaves the input unfrozen and unchanged', () => {
    const raw = { bus: { coalesce: { fader: { by: ['channel'] } } } };
    const config = validateConfig(raw);
    expect(isDeepFrozen(config)).toBe(true);
    expect(Object.isFrozen(raw.bus.coalesce.fader.by)).toBe(false);
    expect(raw).toEqual({ bus: { coalesce: { fader: { by: ['channel'] } } } });
    expect(isDeepFrozen(loadConfig({ file: files.write('f.yaml', 'api: {port: 1}\n') }))).toBe(true);
    expect(() => {
      config.bus.coalesce.fader!.by.push('x');
    }).toThrow(TypeError);
  });

  it('validateConfig applies the defaults to what is missing', () => {
    expect(validateConfig({})).toEqual(DEFAULT_CONFIG);
    expect(validateConfig(undefined)).toEqual(DEFAULT_CONFIG);
    expect(validateConfig({ daemon: { watchdog: false } }).daemon).toEqual({
      stopTimeoutMs: 10000,
      watchdog: false,
      realtimePriority: 0,
    });
  });
});

describe('formatConfig and redactConfig', () => {
  const withToken = validateConfig({ api: { token: 'hunter2', port: 1234 } });

  it('redacts a set token, and shows an unset one as empty', () => {
    const text = formatConfig(withToken);
    expect(text).toContain('token: <redacted>');
    expect(text).not.toContain('hunter2');
    expect(formatConfig(DEFAULT_CONFIG)).toMatch(/token: (""|'')/);
    expect(redactConfig(withToken).api.token).toBe('<redacted>');
    expect(redactConfig(DEFAULT_CONFIG).api.token).toBe('');
    expect(withToken.api.token).toBe('hunter2');
  });

  it('redactConfig keeps everything else', () => {
    const redacted = redactConfig(withToken);
    expect({ ...redacted, api: { ...redacted.api, token: 'hunter2' } }).toEqual(withToken);
    expect(isDeepFrozen(redacted)).toBe(true);
  });

  it('round trip: formatConfig(redact: false) loads back to the same config', () => {
    const configs: PerformiaConfig[] = [
      DEFAULT_CONFIG,
      withToken,
      validateConfig({
        api: { token: 'yes', host: '0.0.0.0', port: 0 },
        bus: { sliceMs: 0.5, coalesce: { 'osc.fader': { by: ['address', '123'] } } },
        log: { level: 'silent', pretty: 'never' },
        daemon: { watchdog: false },
      }),
    ];
    for (const config of configs) {
      const text = formatConfig(config, { redact: false });
      expect(loadConfig({ file: files.write('round.yaml', text) })).toEqual(config);
    }
  });
});

describe('loadConfig: file errors', () => {
  it('a missing file says "file not found", with code and cause', () => {
    const missing = `${files.dir()}/nope.yaml`;
    const err = catchError(() => loadConfig({ file: missing }));
    expect(hasCode(err, 'PFM_ERR_CONFIG_FILE')).toBe(true);
    expect(err.message).toBe(`Cannot load configuration file ${missing}: file not found`);
    expect((err.cause as NodeJS.ErrnoException).code).toBe('ENOENT');
  });

  it('a missing file named by PERFORMIA_CONFIG is an error too', () => {
    const err = catchError(() => loadConfig({ env: { PERFORMIA_CONFIG: `${files.dir()}/gone.yaml` } }));
    expect(err.message).toMatch(/gone\.yaml: file not found$/);
  });

  it('an unreadable path (a directory) is an error naming it', () => {
    const dir = files.dir();
    const err = catchError(() => loadConfig({ file: dir }));
    expect(hasCode(err, 'PFM_ERR_CONFIG_FILE')).toBe(true);
    expect(err.message).toContain(dir);
    expect(err.message).toMatch(/directory/);
  });

  it('invalid YAML gives the line and column', () => {
    const file = files.write('bad.yaml', 'api:\n  port: 1\n host: x\n');
    const err = catchError(() => loadConfig({ file }));
    expect(hasCode(err, 'PFM_ERR_CONFIG_FILE')).toBe(true);
    expect(err.message).toMatch(/invalid YAML at line 3, column 1: /);
    expect(err.message).not.toContain('\n');
    expect((err.cause as Error).name).toBe('YAMLParseError');
  });

  it('duplicate keys are invalid YAML', () => {
    const err = catchError(() => loadConfig({ file: files.write('dup.yaml', 'api: {}\napi: {}\n') }));
    expect(err.message).toMatch(/invalid YAML at line 2, column 1: Map keys must be unique/);
  });

  it('a top-level list or scalar is refused', () => {
    const list = catchError(() => loadConfig({ file: files.write('list.yaml', '- api\n- bus\n') }));
    expect(hasCode(list, 'PFM_ERR_CONFIG_FILE')).toBe(true);
    expect(list.message).toMatch(/top level must be a mapping of settings \(key: value\), got a list$/);
    const scalar = catchError(() => loadConfig({ file: files.write('scalar.yaml', '42\n') }));
    expect(scalar.message).toMatch(/got a number \(42\)$/);
  });
});

function catchError(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    if (err instanceof Error) return err;
  }
  throw new Error('expected an Error to be thrown');
}
