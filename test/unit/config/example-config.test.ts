/**
 * systemd/config.yaml, the example config: every key is written out at its default (not just left to
 * the defaults), and the commented-out OSC examples are valid once uncommented.
 * (test/integration/systemd-unit.test.ts checks that it loads to DEFAULT_CONFIG.)
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DEFAULT_CONFIG, validateConfig } from '../../../config/index.js';
import { projectRoot } from '../../helpers/layering.js';

const text = readFileSync(join(projectRoot(), 'systemd', 'config.yaml'), 'utf8');

/**
 * The example blocks of a top-level section, uncommented: a comment line `  #   key:` (key of the
 * section, one of `keys`) opens one, and the comment lines indented deeper under it continue it. A
 * nested key (`ports:` → `  #   inputs:` at depth 2) is found with `depth` 2.
 */
function examples(section: string, keys: string[], depth = 1): string {
  const start = text.indexOf(`\n${section}:\n`);
  const end = text.slice(start + 1).search(/\n[a-z]+:\n/);
  const lines = text.slice(start, start + 1 + end).split('\n');
  const pad = ' '.repeat(2 * depth);
  const open = new RegExp(`^${pad}# {3}(${keys.join('|')}):\\s*$`);
  const more = new RegExp(`^${pad}# {5}`);
  const out: string[] = [];
  let inBlock = false;
  for (const line of lines) {
    if (open.test(line)) inBlock = true;
    else if (!more.test(line)) inBlock = false;
    if (inBlock) out.push(`${pad}${line.slice(`${pad}#   `.length)}`);
  }
  return out.join('\n');
}

describe('systemd/config.yaml', () => {
  it('writes out every key at its default', () => {
    expect(parse(text)).toEqual(DEFAULT_CONFIG);
  });

  it('its commented-out OSC examples are valid, with and without the abletonosc preset', () => {
    const oscExamples = parse(
      `osc:\n${examples('osc', ['extraListen', 'routes', 'targets', 'outputs'])}`,
    ) as {
      osc: Record<string, unknown>;
    };
    expect(Object.keys(oscExamples.osc)).toEqual(['extraListen', 'routes', 'targets', 'outputs']);
    const config = validateConfig(oscExamples);
    expect(config.osc.routes[0]?.type).toBe('control_change');
    expect(config.osc.outputs[0]?.target).toBe('visuals');
    const both = validateConfig({ osc: { ...oscExamples.osc, presets: ['abletonosc'] } });
    expect(Object.keys(both.osc.targets)).toEqual(['visuals', 'ableton']);
  });

  it('its commented-out MIDI examples are valid', () => {
    const midi = parse(`midi:\n${examples('midi', ['routes', 'outputs'])}`) as {
      midi: Record<string, unknown>;
    };
    const ports = parse(`ports:\n${examples('midi', ['inputs', 'outputs'], 2)}`) as Record<string, unknown>;
    const peers = parse(`network:\n${examples('midi', ['peers'], 2)}`) as Record<string, unknown>;
    expect(Object.keys(midi.midi)).toEqual(['routes', 'outputs']);
    const config = validateConfig({ midi: { ...midi.midi, ...ports, ...peers } });
    expect(config.midi.routes.map((r) => r.type)).toEqual(['play_drums', 'tempo_change']);
    expect(config.midi.outputs.map((o) => o.send)).toEqual(['note', 'drums', 'cc']);
    expect(Object.keys(config.midi.ports.inputs)).toEqual(['pads']);
    expect(config.midi.ports.outputs.synth?.match).toBe('regex');
    expect(config.midi.network.peers.laptop?.host).toBe('192.168.1.20');
  });
});
