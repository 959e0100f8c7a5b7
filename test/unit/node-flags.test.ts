/**
 * The daemon's V8 flags (daemon/node-flags.ts) are given in three places: `npm start`, the systemd
 * unit's ExecStart and the `performia` binary's shebang. They stay in step, and do what they claim.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DAEMON_NODE_FLAGS } from '../../daemon/node-flags.js';
import { projectRoot } from '../helpers/layering.js';

const root = projectRoot();
const read = (...path: string[]) => readFileSync(join(root, ...path), 'utf8');

describe('the daemon V8 flags', () => {
  it('are given by npm start, the systemd unit and the binary (source and build)', () => {
    const pkg = JSON.parse(read('package.json')) as { scripts: Record<string, string> };
    const execStart = read('systemd', 'performia.service')
      .split('\n')
      .find((l) => l.startsWith('ExecStart='));
    const shebang = read('daemon', 'cli.ts').split('\n')[0];
    const builtShebang = read('dist', 'daemon', 'cli.js').split('\n')[0];
    expect(shebang).toMatch(/^#!\/usr\/bin\/env -S node /);
    for (const flag of DAEMON_NODE_FLAGS) {
      expect(pkg.scripts.start).toContain(`node ${flag}`);
      expect(execStart).toContain(` ${flag} `);
      expect(shebang).toContain(` ${flag}`);
      expect(builtShebang).toContain(` ${flag}`);
    }
  });

  it('start the young generation at 16 MiB (Node starts it at 1 MiB)', () => {
    const script =
      "process.stdout.write(String(require('v8').getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size))";
    const plain = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
    const flagged = spawnSync(process.execPath, [...DAEMON_NODE_FLAGS, '-e', script], { encoding: 'utf8' });
    expect(flagged.status).toBe(0);
    expect(Number(flagged.stdout)).toBe(16 * 1024 * 1024);
    expect(Number(plain.stdout)).toBeLessThan(16 * 1024 * 1024);
  });
});
