import Value from 'typebox/value';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { ConfigSchema, DEFAULT_CONFIG, type PerformiaConfig, validateConfig } from '../../../config/index.js';

/** Every leaf schema with its dotted path (records are entered through their value schema as `*`). */
function leaves(schema: Record<string, unknown>, path = ''): [string, Record<string, unknown>][] {
  const out: [string, Record<string, unknown>][] = [[path || '(top level)', schema]];
  const props = (schema.properties ?? {}) as Record<string, Record<string, unknown>>;
  for (const [key, sub] of Object.entries(props)) out.push(...leaves(sub, path ? `${path}.${key}` : key));
  for (const sub of Object.values(
    (schema.patternProperties ?? {}) as Record<string, Record<string, unknown>>,
  )) {
    out.push(...leaves(sub, `${path}.*`));
  }
  return out;
}

function isDeepFrozen(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return true;
  return Object.isFrozen(value) && Object.values(value).every(isDeepFrozen);
}

describe('config schema and embedded default', () => {
  it('the default is complete and valid: every key of the schema is present', () => {
    expect(Value.Check(ConfigSchema, DEFAULT_CONFIG)).toBe(true);
    expect(DEFAULT_CONFIG).toEqual({
      api: {
        host: '127.0.0.1',
        port: 7070,
        token: '',
        bodyLimitBytes: 65536,
        rateLimit: { max: 600, timeWindowMs: 1000 },
        stream: { maxBufferedBytes: 1048576 },
      },
      bus: {
        maxQueueSize: 100000,
        sliceMs: 1,
        slowHandlerMs: 2,
        timingEvery: 32,
        clockReuse: 32,
        statsWindowMs: 10000,
        stopTimeoutMs: 5000,
        coalesce: {},
      },
      osc: { listen: { host: '127.0.0.1', port: 57121 } },
      log: { level: 'info', pretty: 'auto' },
      daemon: { stopTimeoutMs: 10000, watchdog: true },
    });
  });

  it('the default is deep-frozen', () => {
    expect(isDeepFrozen(DEFAULT_CONFIG)).toBe(true);
    expect(() => {
      (DEFAULT_CONFIG.api as { port: number }).port = 1;
    }).toThrow(TypeError);
  });

  it('every key has a description, and every object is closed', () => {
    for (const [path, schema] of leaves(ConfigSchema as unknown as Record<string, unknown>)) {
      expect(typeof schema.description, path).toBe('string');
      if (schema.properties !== undefined) expect(schema.additionalProperties, path).toBe(false);
    }
  });

  it('every port accepts 0 (tests use free ports)', () => {
    const ports = leaves(ConfigSchema as unknown as Record<string, unknown>).filter(([p]) =>
      /port$/i.test(p),
    );
    expect(ports.map(([p]) => p).sort()).toEqual(['api.port', 'osc.listen.port']);
    const config = validateConfig({ api: { port: 0 }, osc: { listen: { port: 0 } } });
    expect(config.api.port).toBe(0);
    expect(config.osc.listen.port).toBe(0);
  });

  it('gives the static type', () => {
    expectTypeOf<PerformiaConfig['api']['port']>().toEqualTypeOf<number>();
    expectTypeOf<PerformiaConfig['log']['level']>().toEqualTypeOf<
      'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'
    >();
    expectTypeOf<PerformiaConfig['bus']['coalesce']>().toEqualTypeOf<{ [k: string]: { by: string[] } }>();
    expectTypeOf<PerformiaConfig['daemon']['watchdog']>().toEqualTypeOf<boolean>();
  });

  it('our validation agrees with TypeBox on valid and invalid values', () => {
    const cases: unknown[] = [
      {},
      { api: { port: 65535 } },
      { api: { port: 65536 } },
      { api: { port: 1.5 } },
      { api: { host: '' } },
      { api: { bodyLimitBytes: 1023 } },
      { api: { rateLimit: { max: 0 } } },
      { api: { stream: { maxBufferedBytes: 1024 } } },
      { bus: { sliceMs: 0 } },
      { bus: { sliceMs: 0.25 } },
      { bus: { coalesce: { fader: { by: ['channel'] } } } },
      { bus: { coalesce: { fader: { by: [] } } } },
      { bus: { coalesce: { fader: { by: [1] } } } },
      { bus: { coalesce: { fader: {} } } },
      { log: { level: 'trace', pretty: 'never' } },
      { log: { pretty: true } },
      { daemon: { stopTimeoutMs: 99 } },
      { daemon: { watchdog: 'yes' } },
      { extra: 1 },
    ];
    for (const raw of cases) {
      const merged = Value.Default(ConfigSchema, structuredClone(raw));
      let ours = true;
      try {
        validateConfig(raw);
      } catch {
        ours = false;
      }
      expect(ours, JSON.stringify(raw)).toBe(Value.Check(ConfigSchema, merged));
    }
  });
});
