/**
 * A config reload (SIGHUP) applies new OSC routes and output rules at once; listener and target
 * changes are reported as needing a restart. liblo's oscsend and oscdump are the outside peers.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { AnyMessage } from '../../../daemon/bus/index.js';
import { Daemon } from '../../../daemon/daemon.js';
import { defaultParts } from '../../../daemon/parts.js';
import { collector, memoryLogger, oscPort, testConfig } from '../../helpers/daemon.js';
import { type Dump, libloAvailable, oscsend, startDump } from '../../helpers/liblo.js';

let daemon: Daemon | undefined;
let dump: Dump | undefined;
afterEach(async () => {
  await daemon?.stop();
  daemon = undefined;
  await dump?.stop();
  dump = undefined;
});

async function until(check: () => boolean, what: string, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe.skipIf(!libloAvailable && process.env.CI !== 'true')('OSC config reload', () => {
  it('applies new routes and output rules at once; socket settings wait for a restart', async () => {
    dump = await startDump();
    const osc = (more: Record<string, unknown>) => ({
      listen: { host: '127.0.0.1', port: 0 },
      targets: { live: { host: '127.0.0.1', port: dump?.port, protocol: 'udp', timetags: false } },
      ...more,
    });
    const first = testConfig({ osc: osc({ routes: [{ address: '/pad/*', type: 'pad_old' }] }) });
    let next = first;
    const got: AnyMessage[] = [];
    const { logger, lines } = memoryLogger();
    daemon = new Daemon({
      config: first,
      logger,
      parts: [...defaultParts, collector(got)],
      reloadConfig: () => next,
    });
    await daemon.start();
    const port = oscPort(daemon);

    await oscsend(port, '/pad/1', 'i', 1);
    await until(() => got.length === 1, 'the first pad');
    expect(got[0]).toMatchObject({ type: 'pad_old', payload: {} });

    next = testConfig({
      osc: osc({
        routes: [{ address: '/pad/*', type: 'pad_new', payload: { velocity: { arg: 0 } } }],
        outputs: [
          {
            type: 'pad_new',
            target: 'live',
            address: '/lights/pad',
            args: [{ type: 'i', from: 'velocity' }],
          },
        ],
        maxDatagramBytes: 4096,
      }),
    });
    const result = await daemon.reload();
    expect(result?.changed).toEqual(
      expect.arrayContaining(['osc.routes', 'osc.outputs', 'osc.maxDatagramBytes']),
    );
    expect(result?.restartNeeded).toEqual(['osc.maxDatagramBytes']);
    expect(lines.some((l) => l.msg === 'OSC routes and outputs reloaded')).toBe(true);

    await oscsend(port, '/pad/2', 'i', 99);
    await until(() => got.length >= 2, 'the second pad');
    expect(got[1]).toMatchObject({ type: 'pad_new', payload: { velocity: 99 } });
    // The new output rule sends it on, to oscdump.
    const out = await dump.waitFor((l) => l.address === '/lights/pad');
    expect(out).toMatchObject({ types: 'i', values: ['99'] });
    // The old listener is still the one bound: its port did not move.
    expect(oscPort(daemon)).toBe(port);
  });
});
