/**
 * The `osc:` section (issue #4): its defaults, and one specific message per problem, from the schema
 * walk and from the rules across keys (config/osc-rules.ts).
 */
import { describe, expect, it } from 'vitest';
import { configProblemsOf, loadConfig, validateConfig } from '../../../config/index.js';
import { useTempFiles } from './temp-files.js';

const files = useTempFiles();

/** The problem lines of validating `raw`, or [] when it is valid. */
function linesOf(raw: unknown): string[] {
  try {
    validateConfig(raw);
    return [];
  } catch (err) {
    const problems = configProblemsOf(err);
    if (problems.length === 0) throw err;
    return problems.map((p) => p.message);
  }
}

/** A config with these `osc` keys. */
const osc = (section: Record<string, unknown>) => ({ osc: section });

describe('osc defaults: one UDP listener on 127.0.0.1:57121, nothing else', () => {
  // The embedded default's osc section is asserted whole, with the rest of it, in schema.test.ts.
  it('a partial tcp section keeps the other tcp defaults', () => {
    expect(validateConfig(osc({ tcp: { enabled: true } })).osc.tcp).toEqual({
      enabled: true,
      host: '127.0.0.1',
      port: 57122,
      framing: 'auto',
    });
  });

  it('a target gets protocol udp and timetags false; optional keys stay absent', () => {
    const config = validateConfig(osc({ targets: { synth: { host: 'synth.local', port: 9000 } } }));
    expect(config.osc.targets.synth).toEqual({
      host: 'synth.local',
      port: 9000,
      protocol: 'udp',
      timetags: false,
    });
  });

  it('routes and outputs are kept as written (no defaults inside them)', () => {
    const route = {
      address: '/fader/*',
      type: 'control_change',
      args: ['level'],
      payload: {
        channel: { value: 1 },
        controller: { value: 7 },
        value: { name: 'level', scale: [0, 1, 0, 127], clamp: true, round: true },
      },
    };
    const output = {
      type: 'chord_change',
      where: { bar: 1 },
      target: 'live',
      address: '/performia/chord',
      args: [{ type: 's', from: 'chord' }, { type: 'i', value: 3 }, { type: 'T' }],
    };
    const config = validateConfig(
      osc({ routes: [route], targets: { live: { host: '127.0.0.1', port: 9000 } }, outputs: [output] }),
    );
    expect(config.osc.routes).toEqual([route]);
    expect(config.osc.outputs).toEqual([output]);
  });

  it('the new keys load from YAML', () => {
    const file = files.write(
      'osc.yaml',
      [
        'osc:',
        '  extraListen: [{ host: 0.0.0.0, port: 9000 }]',
        '  allow: [192.168.1.0/24, "::1"]',
        '  onBindError: fail',
        '  routes:',
        '    - { address: /tempo, type: tempo_change, payload: { bpm: { arg: 0 } } }',
      ].join('\n'),
    );
    const config = loadConfig({ file });
    expect(config.osc.extraListen).toEqual([{ host: '0.0.0.0', port: 9000 }]);
    expect(config.osc.allow).toEqual(['192.168.1.0/24', '::1']);
    expect(config.osc.onBindError).toBe('fail');
    expect(config.osc.routes[0]?.payload?.bpm).toEqual({ arg: 0 });
  });
});

describe('osc: one specific message per problem', () => {
  it('allow: addresses and CIDR blocks, IPv4 and IPv6', () => {
    expect(
      linesOf(osc({ allow: ['10.0.0.0/8', '10.0.0.0/33', '192.168.1.7', '::1', 'fd00::/8', '0.0.0.0/0'] })),
    ).toEqual(['osc.allow[1]: expected an IPv4 or IPv6 address or CIDR block, got "10.0.0.0/33"']);
    expect(
      linesOf(osc({ allow: ['fd00::/129', '10.0.0.256', '1.2.3.4/', 'fe80::1%eth0', 'any', 5] })),
    ).toEqual([
      'osc.allow[0]: expected an IPv4 or IPv6 address or CIDR block, got "fd00::/129"',
      'osc.allow[1]: expected an IPv4 or IPv6 address or CIDR block, got "10.0.0.256"',
      'osc.allow[2]: expected an IPv4 or IPv6 address or CIDR block, got "1.2.3.4/"',
      'osc.allow[3]: expected an IPv4 or IPv6 address or CIDR block, got "fe80::1%eth0"',
      'osc.allow[4]: expected an IPv4 or IPv6 address or CIDR block, got "any"',
      'osc.allow[5]: expected an IPv4 or IPv6 address or CIDR block, got 5',
    ]);
  });

  it('an unknown preset', () => {
    expect(linesOf(osc({ presets: ['ableton'] }))).toEqual([
      'osc.presets[0]: expected one of abletonosc, got "ableton"',
    ]);
  });

  it('numbers out of range, enums, booleans', () => {
    expect(
      linesOf(
        osc({
          enabled: 1,
          tcp: { enabled: 'yes', port: 70000 },
          recvBufferBytes: 65535,
          maxDatagramBytes: 63,
          maxBundleDepth: 0,
          onBindError: 'crash',
          retryMs: 600001,
        }),
      ),
    ).toEqual([
      'osc.enabled: expected true or false, got 1',
      'osc.tcp.enabled: expected true or false, got "yes"',
      'osc.tcp.port: expected integer 0..65535, got 70000',
      'osc.recvBufferBytes: expected integer 65536..67108864, got 65535',
      'osc.maxDatagramBytes: expected integer 64..1048576, got 63',
      'osc.maxBundleDepth: expected integer 1..64, got 0',
      'osc.onBindError: expected one of degrade, fail, got "crash"',
      'osc.retryMs: expected integer 100..600000, got 600001',
    ]);
  });

  it('extra listeners: both keys required; one host and port used twice', () => {
    expect(
      linesOf(
        osc({
          extraListen: [
            { host: '', port: 9000 },
            { port: 9001 },
            { host: '127.0.0.1', port: 57121 },
            { host: '127.0.0.1', port: 0 },
            { host: '127.0.0.1', port: 0 },
          ],
        }),
      ),
    ).toEqual([
      'osc.extraListen[0].host: expected non-empty string, got ""',
      'osc.extraListen[1].host: missing, expected non-empty string',
      'osc.extraListen[2]: 127.0.0.1:57121 is already used by osc.listen',
    ]);
  });

  it('a route payload field with two sources, or none', () => {
    const route = {
      address: '/tempo',
      type: 'tempo_change',
      args: ['bpm'],
      payload: { bpm: { arg: 0, name: 'bpm' }, nothing: { round: true } },
    };
    expect(linesOf(osc({ routes: [route] }))).toEqual([
      'osc.routes[0].payload.bpm: set exactly one of arg, name, value, latch or now',
      'osc.routes[0].payload.nothing: set exactly one of arg, name, value, latch or now',
    ]);
  });

  it('a payload field taking a name the route does not give, or a name given twice', () => {
    const payload = { bpm: { name: 'tempo' } };
    expect(linesOf(osc({ routes: [{ address: '/t', type: 't', args: ['bpm', 'bpm'], payload }] }))).toEqual([
      'osc.routes[0].args[1]: "bpm" is named twice',
      `osc.routes[0].payload.bpm.name: "tempo" is not one of the route's args (known: bpm, bpm)`,
    ]);
    expect(linesOf(osc({ routes: [{ address: '/t', type: 't', payload }] }))).toEqual([
      `osc.routes[0].payload.bpm.name: "tempo" is not one of the route's args (the route has no args)`,
    ]);
  });

  it('a scale with inMin == inMax, or not four numbers', () => {
    const route = (scale: unknown) => ({ address: '/f', type: 'f', payload: { v: { arg: 0, scale } } });
    expect(linesOf(osc({ routes: [route([1, 1, 0, 127])] }))).toEqual([
      'osc.routes[0].payload.v.scale: inMin and inMax must differ, got [1,1,0,127]',
    ]);
    expect(linesOf(osc({ routes: [route([0, 1, 0])], outputs: [] }))).toEqual([
      'osc.routes[0].payload.v.scale: expected list of 4 numbers, got [0,1,0]',
    ]);
    expect(linesOf(osc({ routes: [route([0, 1, 127, 0])] }))).toEqual([]);
  });

  it('route address, type, priority and a payload constant that is not JSON', () => {
    const route = {
      address: 'tempo',
      type: 'tempo change',
      priority: 'URGENT',
      to: '',
      payload: { a: { arg: -1 }, b: { value: Number.POSITIVE_INFINITY } },
    };
    expect(linesOf(osc({ routes: [route] }))).toEqual([
      'osc.routes[0].address: expected an OSC address starting with / (no spaces), got "tempo"',
      'osc.routes[0].type: expected a message type name (letters, digits and _ . : / -), got "tempo change"',
      'osc.routes[0].priority: expected one of CRITICAL, HIGH, NORMAL, LOW, got "URGENT"',
      'osc.routes[0].to: expected non-empty string, got ""',
      'osc.routes[0].payload.a.arg: expected integer >= 0, got -1',
      'osc.routes[0].payload.b.value: expected a JSON value (null, true/false, number, string, list or mapping), got Infinity',
    ]);
  });

  it('route addresses are OSC 1.0 patterns: * ? [ ] { } and commas inside braces are fine, spaces not', () => {
    const route = (address: string) => ({ address, type: 'x' });
    const patterns = ['/{drum,perc}/*', '/mix/[0-9]?/level', '/a/[!b-d]', '//fader'];
    expect(linesOf(osc({ routes: patterns.map(route) }))).toEqual([]);
    expect(linesOf(osc({ routes: [route('/a b')] }))).toEqual([
      'osc.routes[0].address: expected an OSC address starting with / (no spaces), got "/a b"',
    ]);
  });

  it('an output naming an unknown target', () => {
    const out = (target: string) => ({ type: 'tempo_change', target, address: '/tempo' });
    const targets = { ableton: { host: '127.0.0.1', port: 11000 } };
    expect(linesOf(osc({ targets, outputs: [out('ableton'), out('ableton'), out('abletn')] }))).toEqual([
      'osc.outputs[2].target: "abletn" is not a target (known: ableton)',
    ]);
    expect(linesOf(osc({ outputs: [out('ableton')] }))).toEqual([
      'osc.outputs[0].target: "ableton" is not a target (known: none)',
    ]);
  });

  it('a bad type letter', () => {
    const targets = {
      t: { host: 'h', port: 1, onStart: [{ address: '/go', args: [{ type: 'x', value: 1 }] }] },
    };
    const outputs = [{ type: 'a', target: 't', address: '/a', args: [{ type: 'q', from: 'v' }] }];
    expect(linesOf(osc({ targets, outputs }))).toEqual([
      'osc.targets.t.onStart[0].args[0].type: expected one of i, f, s, S, b, h, t, d, c, r, m, T, F, N, I, got "x"',
      'osc.outputs[0].args[0].type: expected one of i, f, s, S, b, h, t, d, c, r, m, T, F, N, I, got "q"',
    ]);
  });

  it('output arguments: exactly one of from/value, none for T F N I; constants fit their type', () => {
    const args = [
      { type: 'f', from: 'bpm' },
      { type: 'f' },
      { type: 'f', from: 'bpm', value: 120 },
      { type: 'T', value: true },
      { type: 'N' },
      { type: 'i', value: 1.5 },
      { type: 'c', value: 'ab' },
      { type: 's', from: 'a..b' },
      { type: 'h', value: 2 ** 40 },
    ];
    const config = osc({
      targets: { t: { host: 'h', port: 1 } },
      outputs: [{ type: 'a', target: 't', address: '/a', args }],
    });
    expect(linesOf(config)).toEqual([
      'osc.outputs[0].args[7].from: expected a payload field name, dotted for a nested field (e.g. bpm or note.value), got "a..b"',
      'osc.outputs[0].args[1]: set exactly one of from or value (type f carries data)',
      'osc.outputs[0].args[2]: set exactly one of from or value (type f carries data)',
      'osc.outputs[0].args[3]: type T carries no data: leave out value',
      'osc.outputs[0].args[5].value: expected integer -2147483648..2147483647 for type i, got 1.5',
      'osc.outputs[0].args[6].value: expected one character for type c, got "ab"',
    ]);
  });

  it('start messages: a value for every type that carries data', () => {
    const args = [
      { type: 'f' },
      { type: 'N', value: null },
      { type: 'i', value: 2 ** 31 },
      { type: 's', value: 'x' },
    ];
    const targets = { t: { host: 'h', port: 9000, onStart: [{ address: '/x', args }] } };
    expect(linesOf(osc({ targets }))).toEqual([
      'osc.targets.t.onStart[0].args[0].value: missing, expected a value of type f',
      'osc.targets.t.onStart[0].args[1]: type N carries no data: leave out value',
      'osc.targets.t.onStart[0].args[2].value: expected integer -2147483648..2147483647 for type i, got 2147483648',
    ]);
  });

  it('targets: host, port 1..65535, protocol; unknown keys in a route', () => {
    expect(
      linesOf(
        osc({
          targets: { a: { host: 'h', port: 0 }, b: { port: 9000, protocol: 'sctp' } },
          routes: [{ address: '/a', type: 'a', extra: 1 }],
        }),
      ),
    ).toEqual([
      'osc.routes[0].extra: unknown key (known keys: address, type, priority, to, args, payload, latch)',
      'osc.targets.a.port: expected integer 1..65535, got 0',
      'osc.targets.b.protocol: expected one of udp, tcp, got "sctp"',
      'osc.targets.b.host: missing, expected non-empty string',
    ]);
  });

  it('lists of the wrong kind', () => {
    expect(linesOf(osc({ routes: 5, targets: [], outputs: {} }))).toEqual([
      'osc.routes: expected list of items (mapping with keys address, type, priority, to, args, payload, latch), got 5',
      'osc.targets: expected mapping of names to settings, got []',
      'osc.outputs: expected list of items (mapping with keys type, where, target, address, args), got {}',
    ]);
  });
});
