/**
 * OSC presets (config/presets.ts): the AbletonOSC preset's content, how presets merge into the config,
 * and that the loader merges them before it validates, idempotently (a saved effective config loads
 * back the same).
 */
import { describe, expect, it } from 'vitest';
import {
  ABLETONOSC_PRESET,
  applyPresets,
  configProblemsOf,
  DEFAULT_CONFIG,
  formatConfig,
  loadConfig,
  type PerformiaConfig,
  validateConfig,
} from '../../../config/index.js';
import { useTempFiles } from './temp-files.js';

const files = useTempFiles();

const withAbleton = (osc: Record<string, unknown> = {}): PerformiaConfig =>
  validateConfig({ osc: { presets: ['abletonosc'], ...osc } });

const reply = { host: '127.0.0.1', port: 11001 };

describe('the abletonosc preset', () => {
  it('targets Live on 127.0.0.1:11000 and asks it for beats and tempo at start', () => {
    expect(ABLETONOSC_PRESET.targets).toEqual({
      ableton: {
        host: '127.0.0.1',
        port: 11000,
        protocol: 'udp',
        timetags: false,
        onStart: [{ address: '/live/song/start_listen/beat' }, { address: '/live/song/start_listen/tempo' }],
      },
    });
  });

  it("routes Live's beat count as beat_event (4/4, bpm latched from Live's tempo) and sends tempo_change to Live", () => {
    expect(ABLETONOSC_PRESET.routes).toEqual([
      {
        address: '/live/song/get/beat',
        type: 'beat_event',
        priority: 'CRITICAL',
        payload: {
          beat: { arg: 0, mod: 4, add: 1 },
          bar: { arg: 0, div: 4, add: 1 },
          bpm: { latch: 'abletonosc.bpm', default: 120 },
          at: { now: true },
        },
      },
      {
        address: '/live/song/get/tempo',
        type: 'tempo_change',
        priority: 'HIGH',
        payload: { bpm: { arg: 0 } },
        latch: { 'abletonosc.bpm': { arg: 0 } },
      },
      // Live restarted (AbletonOSC sends /live/startup when Live loads it): ask for beats and tempo again.
      {
        address: '/live/startup',
        type: 'osc_target_restart',
        priority: 'HIGH',
        payload: { target: { value: 'ableton' } },
      },
    ]);
    expect(ABLETONOSC_PRESET.outputs).toEqual([
      {
        type: 'tempo_change',
        target: 'ableton',
        address: '/live/song/set/tempo',
        args: [{ type: 'f', from: 'bpm' }],
      },
    ]);
  });

  it('alone, makes a valid effective config: target, routes, outputs and the reply listener', () => {
    const { osc } = withAbleton();
    expect(osc.presets).toEqual(['abletonosc']);
    expect(osc.routes).toEqual(ABLETONOSC_PRESET.routes);
    expect(osc.outputs).toEqual(ABLETONOSC_PRESET.outputs);
    expect(osc.targets).toEqual(ABLETONOSC_PRESET.targets);
    expect(osc.extraListen).toEqual([reply]);
    expect(osc.listen).toEqual(DEFAULT_CONFIG.osc.listen);
  });

  it('is frozen', () => {
    expect(Object.isFrozen(ABLETONOSC_PRESET.routes[0]?.payload)).toBe(true);
  });
});

describe('merging presets', () => {
  it("the preset's routes and outputs come after the user's own", () => {
    const mine = { address: '/live/song/get/tempo', type: 'my_tempo', payload: { bpm: { arg: 0 } } };
    const myOutput = {
      type: 'my_tempo',
      target: 'ableton',
      address: '/live/song/set/tempo',
      args: [{ type: 'f', from: 'bpm' }],
    };
    const { osc } = withAbleton({ routes: [mine], outputs: [myOutput] });
    // First matching route wins: the user's route for /live/song/get/tempo is found before the preset's.
    expect(osc.routes.map((r) => r.type)).toEqual([
      'my_tempo',
      'beat_event',
      'tempo_change',
      'osc_target_restart',
    ]);
    expect(osc.routes.findIndex((r) => r.address === '/live/song/get/tempo')).toBe(0);
    expect(osc.outputs.map((o) => o.type)).toEqual(['my_tempo', 'tempo_change']);
  });

  it('a target of the same name overrides the preset key by key; onStart: [] drops the requests', () => {
    const moved = withAbleton({ targets: { ableton: { host: '192.168.1.20' } } }).osc.targets.ableton;
    expect(moved).toEqual({ ...ABLETONOSC_PRESET.targets.ableton, host: '192.168.1.20' });
    const quiet = withAbleton({ targets: { ableton: { port: 11010, onStart: [] } } }).osc.targets.ableton;
    expect(quiet).toEqual({ host: '127.0.0.1', port: 11010, protocol: 'udp', timetags: false, onStart: [] });
  });

  it("the user's other targets stay, before the preset's", () => {
    const { osc } = withAbleton({ targets: { synth: { host: 'synth.local', port: 9000 } } });
    expect(Object.keys(osc.targets)).toEqual(['synth', 'ableton']);
  });

  it('the reply listener is added once, and not over a listener already on port 11001', () => {
    expect(withAbleton({ presets: ['abletonosc', 'abletonosc'] }).osc.extraListen).toEqual([reply]);
    const mine = { host: '0.0.0.0', port: 11001 };
    expect(withAbleton({ extraListen: [mine] }).osc.extraListen).toEqual([mine]);
    const other = { host: '127.0.0.1', port: 9000 };
    expect(withAbleton({ extraListen: [other] }).osc.extraListen).toEqual([other, reply]);
    expect(withAbleton({ listen: { port: 11001 } }).osc.extraListen).toEqual([]);
  });

  it('Live on another machine: the reply listener takes every interface (0.0.0.0)', () => {
    const { osc } = withAbleton({ targets: { ableton: { host: '192.168.1.20' } } });
    expect(osc.extraListen).toEqual([{ host: '0.0.0.0', port: 11001 }]);
  });

  it('is idempotent, and does not change its input', () => {
    const input = structuredClone(DEFAULT_CONFIG) as PerformiaConfig;
    input.osc.presets = ['abletonosc'];
    const before = structuredClone(input);
    const once = applyPresets(input);
    expect(applyPresets(once)).toEqual(once);
    expect(input).toEqual(before);
    expect(applyPresets(DEFAULT_CONFIG)).toBe(DEFAULT_CONFIG);
  });

  it('leaves values of the wrong shape for validation to report', () => {
    expect(applyPresets(42)).toBe(42);
    expect(applyPresets({ osc: { presets: 'abletonosc' } })).toEqual({ osc: { presets: 'abletonosc' } });
    expect(
      configProblemsOf(catchError(() => validateConfig({ osc: { presets: ['abletonosc'], routes: 5 } }))),
    ).toEqual([expect.objectContaining({ path: 'osc.routes' })]);
  });

  it('the merged result is validated: outputs may name a preset target; a bad override is reported', () => {
    const output = {
      type: 'chord_change',
      target: 'ableton',
      address: '/performia/chord',
      args: [{ type: 's', from: 'chord' }],
    };
    expect(withAbleton({ outputs: [output] }).osc.outputs).toHaveLength(2);
    expect(() => validateConfig({ osc: { outputs: [output] } })).toThrow(
      'osc.outputs[0].target: "ableton" is not a target (known: none)',
    );
    expect(() => withAbleton({ targets: { ableton: { port: 0 } } })).toThrow(
      'osc.targets.ableton.port: expected integer 1..65535, got 0',
    );
  });
});

describe('YAML round trip', () => {
  it('a preset config loads from YAML, and its effective config saved and loaded again is the same', () => {
    const file = files.write(
      'ableton.yaml',
      [
        'osc:',
        '  presets: [abletonosc]',
        '  allow: [127.0.0.1, 192.168.1.0/24]',
        '  targets:',
        '    ableton: { host: 192.168.1.20 }',
        '  routes:',
        '    - address: /fader/*',
        '      type: control_change',
        '      args: [level]',
        '      payload:',
        '        channel: { value: 1 }',
        '        controller: { value: 7 }',
        '        value: { name: level, scale: [0, 1, 0, 127], clamp: true, round: true }',
      ].join('\n'),
    );
    const config = loadConfig({ file });
    expect(config.osc.routes).toHaveLength(4);
    expect(config.osc.extraListen).toEqual([{ host: '0.0.0.0', port: 11001 }]);
    const again = loadConfig({ file: files.write('saved.yaml', formatConfig(config, { redact: false })) });
    expect(again).toEqual(config);
  });

  it('the default, with every osc key, round-trips', () => {
    const text = formatConfig(DEFAULT_CONFIG, { redact: false });
    expect(text).toContain('recvBufferBytes: 4194304');
    expect(loadConfig({ file: files.write('default.yaml', text) })).toEqual(DEFAULT_CONFIG);
  });
});

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected an error');
}
