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
 * The example blocks of the `osc:` section, uncommented: a comment line `  #   key:` (key of `osc`)
 * opens one, and the comment lines indented deeper under it continue it.
 */
function oscExamples(): string {
  const lines = text.slice(text.indexOf('\nosc:\n'), text.indexOf('\nlog:\n')).split('\n');
  const out = ['osc:'];
  let inBlock = false;
  for (const line of lines) {
    if (/^ {2}# {3}(extraListen|routes|targets|outputs):\s*$/.test(line)) inBlock = true;
    else if (!/^ {2}# {5}/.test(line)) inBlock = false;
    if (inBlock) out.push(`  ${line.slice('  #   '.length)}`);
  }
  return out.join('\n');
}

describe('systemd/config.yaml', () => {
  it('writes out every key at its default', () => {
    expect(parse(text)).toEqual(DEFAULT_CONFIG);
  });

  it('its commented-out OSC examples are valid, with and without the abletonosc preset', () => {
    const examples = parse(oscExamples()) as { osc: Record<string, unknown> };
    expect(Object.keys(examples.osc)).toEqual(['extraListen', 'routes', 'targets', 'outputs']);
    const config = validateConfig(examples);
    expect(config.osc.routes[0]?.type).toBe('control_change');
    expect(config.osc.outputs[0]?.target).toBe('visuals');
    const both = validateConfig({ osc: { ...examples.osc, presets: ['abletonosc'] } });
    expect(Object.keys(both.osc.targets)).toEqual(['visuals', 'ableton']);
  });
});
