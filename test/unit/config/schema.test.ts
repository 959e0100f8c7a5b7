import Value from 'typebox/value';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { withDefaults } from '../../../config/defaults.js';
import {
  applyPresets,
  ConfigSchema,
  DEFAULT_CONFIG,
  type OscOutputConfig,
  type OscPayloadFieldConfig,
  type OscRouteConfig,
  type OscTargetConfig,
  type OscTypeTag,
  type PerformiaConfig,
  validateConfig,
} from '../../../config/index.js';

type Node = Record<string, unknown>;

/**
 * Every schema with its dotted path: records are entered through their value schema as `*`, lists
 * through their item schema as `[]`. `key` is false for the item of a list (a list of strings need not
 * describe each string).
 */
function leaves(schema: Node, path = '', key = true): [string, Node, boolean][] {
  const out: [string, Node, boolean][] = [[path || '(top level)', schema, key]];
  const props = (schema.properties ?? {}) as Record<string, Node>;
  for (const [k, sub] of Object.entries(props)) out.push(...leaves(sub, path ? `${path}.${k}` : k));
  for (const sub of Object.values((schema.patternProperties ?? {}) as Record<string, Node>)) {
    out.push(...leaves(sub, `${path}.*`));
  }
  if (schema.items !== undefined && !Array.isArray(schema.items)) {
    out.push(...leaves(schema.items as Node, `${path}[]`, false));
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
        tokenForReads: false,
        bodyLimitBytes: 65536,
        rateLimit: { max: 600, timeWindowMs: 1000 },
        stream: { maxBufferedBytes: 1048576, maxClients: 32, maxClientsPerAddress: 8 },
      },
      bus: {
        maxQueueSize: 100000,
        sliceMs: 1,
        slowHandlerMs: 2,
        timingEvery: 64,
        clockReuse: 64,
        statsWindowMs: 10000,
        stopTimeoutMs: 5000,
        coalesce: { control_change: { by: ['channel', 'controller'] } },
      },
      osc: {
        enabled: true,
        listen: { host: '127.0.0.1', port: 57121 },
        extraListen: [],
        tcp: { enabled: false, host: '127.0.0.1', port: 57122, framing: 'auto' },
        recvBufferBytes: 4194304,
        maxDatagramBytes: 65536,
        maxBundleDepth: 8,
        allow: [],
        onBindError: 'degrade',
        retryMs: 5000,
        presets: [],
        routes: [],
        targets: {},
        outputs: [],
      },
      midi: {
        enabled: true,
        ports: {
          enabled: true,
          pollMs: 2000,
          virtual: { enabled: true, input: 'Performia In', output: 'Performia Out' },
          inputs: {},
          outputs: {},
        },
        network: {
          enabled: true,
          name: 'Performia',
          host: '127.0.0.1',
          port: 5004,
          allow: [],
          maxSessions: 16,
          timeoutMs: 30000,
          syncIntervalMs: 10000,
          peers: {},
        },
        maxSysexBytes: 65536,
        routes: [],
        outputs: [],
        drumMap: {
          kick: 36,
          rim: 37,
          snare: 38,
          clap: 39,
          hat: 42,
          hihat: 42,
          pedalhat: 44,
          openhat: 46,
          tom: 45,
          lowtom: 41,
          midtom: 47,
          hightom: 50,
          crash: 49,
          ride: 51,
          cowbell: 56,
        },
        drumChannel: 10,
        clock: {
          in: { enabled: true, tempoStep: 0.5 },
          out: { to: [], bpm: 120, mode: 'transport' },
        },
      },
      audio: {
        enabled: true,
        sinkId: 'default',
        latencyHint: 'balanced',
        onMissingDevice: 'fallback',
        retryMs: 10000,
        isolation: 'auto',
        masterGain: 0.5,
        maxVoices: 256,
        instruments: { '2': 'bass', '3': 'pad' },
        otherChannels: 'lead',
        seed: 1,
        clock: { syncIntervalMs: 500, windowMs: 60000, slewMs: 1000, stepMs: 10 },
      },
      listen: {
        enabled: true,
        device: 'default',
        file: '',
        loop: false,
        channel: 0,
        blockFrames: 256,
        publish: { pitch: true, onset: true, tempo: true },
        pitch: { minHz: 50, maxHz: 2000, minConfidence: 0.85, minLevelDb: -50 },
        onset: { minIntervalMs: 50, minLevelDb: -55, sensitivity: 1.5 },
        tempo: { minBpm: 60, maxBpm: 200, windowSeconds: 8, updateSeconds: 0.5, minConfidence: 0.5 },
        retryMs: 2000,
      },
      agents: {
        enabled: true,
        conductor: {
          enabled: true,
          bpm: 120,
          timeSignature: [4, 4],
          progression: ['C', 'Am', 'F', 'G'],
          lookaheadMs: 100,
          autoStart: true,
          follow: { tempo: false, phase: true, pitch: false, minConfidence: 0.6 },
        },
        bass: { enabled: true, channel: 2, velocity: 96, pattern: 'root', gate: 0.9 },
        drums: {
          enabled: true,
          velocity: 90,
          accentVelocity: 120,
          swing: 0,
          patterns: {
            '4/4': { kick: 'X...x...', snare: '..X...X.', hat: 'xxxxxxxx' },
            '3/4': { kick: 'X.....', snare: '..x.x.', hat: 'xxxxxx' },
            '6/8': { kick: 'X.....', snare: '...X..', hat: 'xxxxxx' },
          },
        },
        harmony: { enabled: true, channel: 3, velocity: 70, register: [52, 76], voices: 4, gate: 0.95 },
        analytics: { enabled: true, intervalMs: 5000 },
      },
      log: { level: 'info', pretty: 'auto' },
      daemon: { stopTimeoutMs: 10000, watchdog: true, realtimePriority: 0 },
    });
  });

  it('the default is deep-frozen', () => {
    expect(isDeepFrozen(DEFAULT_CONFIG)).toBe(true);
    expect(() => {
      (DEFAULT_CONFIG.api as { port: number }).port = 1;
    }).toThrow(TypeError);
  });

  it('every key has a description, and every object is closed (in lists and records too)', () => {
    const all = leaves(ConfigSchema as unknown as Node);
    expect(all.map(([p]) => p)).toContain('osc.routes[].payload.*.scale');
    expect(all.map(([p]) => p)).toContain('osc.targets.*.onStart[].args[].type');
    for (const [path, schema, key] of all) {
      if (key || schema.type === 'object') expect(typeof schema.description, path).toBe('string');
      if (schema.properties !== undefined) expect(schema.additionalProperties, path).toBe(false);
    }
  });

  it('every port we listen on accepts 0 (tests use free ports); a target port is 1..65535', () => {
    const ports = leaves(ConfigSchema as unknown as Node).filter(([p]) => /port$/i.test(p));
    expect(ports.map(([p]) => p).sort()).toEqual([
      'api.port',
      'midi.network.peers.*.port',
      'midi.network.port',
      'osc.extraListen[].port',
      'osc.listen.port',
      'osc.targets.*.port',
      'osc.tcp.port',
    ]);
    // A network MIDI port is a control port: its data port is the next one, so 65535 cannot be one.
    const peerPorts = new Set(['osc.targets.*.port', 'midi.network.peers.*.port']);
    for (const [path, schema] of ports) {
      expect(schema.minimum, path).toBe(peerPorts.has(path) ? 1 : 0);
      expect(schema.maximum, path).toBe(path.startsWith('midi.') ? 65534 : 65535);
    }
    const config = validateConfig({
      api: { port: 0 },
      osc: { listen: { port: 0 }, extraListen: [{ host: '127.0.0.1', port: 0 }], tcp: { port: 0 } },
      midi: { network: { port: 0 } },
    });
    expect(config.midi.network.port).toBe(0);
    expect(config.api.port).toBe(0);
    expect(config.osc.listen.port).toBe(0);
    expect(config.osc.extraListen[0]?.port).toBe(0);
    expect(config.osc.tcp.port).toBe(0);
  });

  it('gives the static type', () => {
    expectTypeOf<PerformiaConfig['api']['port']>().toEqualTypeOf<number>();
    expectTypeOf<PerformiaConfig['log']['level']>().toEqualTypeOf<
      'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'
    >();
    expectTypeOf<PerformiaConfig['bus']['coalesce']>().toEqualTypeOf<{ [k: string]: { by: string[] } }>();
    expectTypeOf<PerformiaConfig['daemon']['watchdog']>().toEqualTypeOf<boolean>();
    expectTypeOf<PerformiaConfig['osc']['onBindError']>().toEqualTypeOf<'degrade' | 'fail'>();
    expectTypeOf<OscRouteConfig['priority']>().toEqualTypeOf<
      'CRITICAL' | 'HIGH' | 'NORMAL' | 'LOW' | undefined
    >();
    expectTypeOf<OscPayloadFieldConfig['scale']>().toEqualTypeOf<
      [number, number, number, number] | undefined
    >();
    expectTypeOf<OscTargetConfig['protocol']>().toEqualTypeOf<'udp' | 'tcp'>();
    expectTypeOf<OscOutputConfig['args']>().toEqualTypeOf<
      { type: OscTypeTag; from?: string; value?: unknown }[] | undefined
    >();
    expectTypeOf<PerformiaConfig['osc']['routes']>().toEqualTypeOf<OscRouteConfig[]>();
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
      { osc: { enabled: false, extraListen: [{ host: '0.0.0.0', port: 9000 }], tcp: { enabled: true } } },
      { osc: { extraListen: [{ host: '', port: 9000 }] } },
      { osc: { extraListen: [{ port: 9000 }] } },
      { osc: { recvBufferBytes: 65535 } },
      { osc: { maxDatagramBytes: 1048577 } },
      { osc: { maxBundleDepth: 0 } },
      { osc: { allow: ['10.0.0.0/8', '192.168.1.7', '::1', 'fd00::/8'] } },
      { osc: { allow: ['10.0.0.0/33'] } },
      { osc: { allow: ['fd00::/129'] } },
      { osc: { allow: ['10.0.0.256'] } },
      { osc: { onBindError: 'crash' } },
      { osc: { retryMs: 99 } },
      { osc: { presets: ['abletonosc'] } },
      { osc: { presets: ['ableton'] } },
      {
        osc: {
          routes: [{ address: '/a/*', type: 'x.y', payload: { v: { arg: 0, scale: [0, 1, 0, 127] } } }],
        },
      },
      { osc: { routes: [{ address: 'a', type: 'x' }] } },
      { osc: { routes: [{ address: '/a', type: 'has space' }] } },
      { osc: { routes: [{ address: '/a', type: 'x', payload: { v: { arg: 0, scale: [0, 1, 0] } } }] } },
      { osc: { routes: [{ address: '/a', type: 'x', priority: 'URGENT' }] } },
      {
        osc: {
          targets: { t: { host: 'h', port: 9000, onStart: [{ address: '/go', args: [{ type: 'T' }] }] } },
        },
      },
      { osc: { targets: { t: { host: 'h', port: 0 } } } },
      { osc: { targets: { t: { host: 'h', port: 9000, protocol: 'sctp' } } } },
      { osc: { outputs: [{ type: 'x', target: 't', address: '/x', args: [{ type: 'q', value: 1 }] }] } },
    ];
    for (const raw of cases) {
      // Completed as the loader does (presets, then defaults inside lists and records), which
      // TypeBox's Value.Default alone does not do for record entries.
      const merged = withDefaults(
        ConfigSchema,
        applyPresets(Value.Default(ConfigSchema, structuredClone(raw))),
      );
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
