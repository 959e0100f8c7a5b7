/**
 * OSC over TCP framings in the config (issue #10): `osc.tcp.framing` for the listener, `framing` for
 * a TCP target, and the rule that a target's framing needs `protocol: tcp`.
 */
import { describe, expect, it } from 'vitest';
import { configProblemsOf, loadConfig, validateConfig } from '../../../config/index.js';
import { useTempFiles } from './temp-files.js';

const files = useTempFiles();

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

describe('osc.tcp.framing', () => {
  it('defaults to auto, and takes slip or length', () => {
    expect(validateConfig({}).osc.tcp.framing).toBe('auto');
    expect(validateConfig({ osc: { tcp: { framing: 'length' } } }).osc.tcp.framing).toBe('length');
    expect(validateConfig({ osc: { tcp: { framing: 'slip' } } }).osc.tcp.framing).toBe('slip');
  });

  it('refuses anything else, naming the key and the choices', () => {
    expect(linesOf({ osc: { tcp: { framing: 'osc1.0' } } })).toEqual([
      'osc.tcp.framing: expected one of auto, slip, length, got "osc1.0"',
    ]);
  });
});

describe('a target’s framing', () => {
  it('is absent unless given (slip is the sender’s default), and length is kept for a TCP target', () => {
    const config = validateConfig({
      osc: {
        targets: {
          plain: { host: '127.0.0.1', port: 9000, protocol: 'tcp' },
          scsynth: { host: '127.0.0.1', port: 57110, protocol: 'tcp', framing: 'length' },
        },
      },
    });
    expect(config.osc.targets.plain).toEqual({
      host: '127.0.0.1',
      port: 9000,
      protocol: 'tcp',
      timetags: false,
    });
    expect(config.osc.targets.scsynth?.framing).toBe('length');
  });

  it('on a UDP target (given or by default) is a problem that says to set protocol: tcp', () => {
    expect(
      linesOf({
        osc: {
          targets: {
            a: { host: 'h', port: 1, framing: 'length' },
            b: { host: 'h', port: 2, protocol: 'udp', framing: 'slip' },
          },
        },
      }),
    ).toEqual([
      'osc.targets.a.framing: framing applies to TCP targets only (this one is udp): set protocol: tcp, or remove framing',
      'osc.targets.b.framing: framing applies to TCP targets only (this one is udp): set protocol: tcp, or remove framing',
    ]);
  });

  it('refuses an unknown framing, naming the choices', () => {
    expect(
      linesOf({ osc: { targets: { a: { host: 'h', port: 1, protocol: 'tcp', framing: 'auto' } } } }),
    ).toEqual(['osc.targets.a.framing: expected one of slip, length, got "auto"']);
  });

  it('loads from YAML', () => {
    const file = files.write(
      'osc.yaml',
      [
        'osc:',
        '  tcp: { enabled: true, framing: length }',
        '  targets:',
        '    sc: { host: 127.0.0.1, port: 57110, protocol: tcp, framing: length }',
      ].join('\n'),
    );
    const config = loadConfig({ file });
    expect(config.osc.tcp).toEqual({ enabled: true, host: '127.0.0.1', port: 57122, framing: 'length' });
    expect(config.osc.targets.sc?.framing).toBe('length');
  });
});
