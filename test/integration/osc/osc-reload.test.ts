/**
 * A config reload (SIGHUP) applies new OSC routes and output rules at once; listener and target
 * changes are reported as needing a restart. liblo's oscsend and oscdump are the outside peers.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { AnyMessage } from '../../../daemon/bus/index.js';
import { Daemon } from '../../../daemon/daemon.js';
import type { PartFactory } from '../../../daemon/kernel/part.js';
import { defaultParts } from '../../../daemon/parts.js';
import { memoryLogger, oscPort, testConfig } from '../../helpers/daemon.js';
import { type Dump, libloAvailable, oscsend, startDump } from '../../helpers/liblo.js';
import { Sightings } from '../../helpers/waiting.js';

let daemon: Daemon | undefined;
let dump: Dump | undefined;
afterEach(async () => {
  await daemon?.stop();
  daemon = undefined;
  await dump?.stop();
  dump = undefined;
});

/** Every bus message, as a part factory that subscribes a '*' observer. */
function busSightings(): { factory: PartFactory; next: (type: string) => Promise<AnyMessage> } {
  const seen = new Sightings<AnyMessage>();
  const factory: PartFactory = (ctx) => {
    ctx.bus.subscribe('*', (m) => seen.add(m));
    return [];
  };
  const next = (type: string) =>
    seen.waitFor(
      (m) => m.type === type,
      5_000,
      () => `no ${type} message in 5 s`,
    );
  return { factory, next };
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
    const bus = busSightings();
    const { logger, lines } = memoryLogger();
    daemon = new Daemon({
      config: first,
      logger,
      parts: [...defaultParts, bus.factory],
      reloadConfig: () => next,
    });
    await daemon.start();
    const port = oscPort(daemon);

    const oldPad = bus.next('pad_old');
    await oscsend(port, '/pad/1', 'i', 1);
    expect(await oldPad).toMatchObject({ type: 'pad_old', from: 'osc', payload: {} });

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
    expect(lines.filter((l) => /^osc\.(routes|outputs) reloaded$/.test(String(l.msg)))).toHaveLength(2);

    const newPad = bus.next('pad_new');
    await oscsend(port, '/pad/2', 'i', 99);
    expect(await newPad).toMatchObject({ type: 'pad_new', from: 'osc', payload: { velocity: 99 } });
    // The new output rule sends it on, to oscdump.
    const out = await dump.waitFor((l) => l.address === '/lights/pad');
    expect(out).toMatchObject({ types: 'i', values: ['99'] });
    // The old listener is still the one bound: its port did not move.
    expect(oscPort(daemon)).toBe(port);

    // A new target opens at start only: an output rule for it waits for a restart, and the reload says
    // so; the route change of the same reload applies all the same.
    const current = next;
    next = testConfig({
      osc: {
        ...current.osc,
        routes: [{ address: '/pad/*', type: 'pad_third' }],
        targets: {
          ...current.osc.targets,
          desk: { host: '127.0.0.1', port: 9, protocol: 'udp', timetags: false },
        },
        outputs: [...current.osc.outputs, { type: 'pad_third', target: 'desk', address: '/x', args: [] }],
      },
    });
    const again = await daemon.reload();
    expect(again?.restartNeeded).toEqual(expect.arrayContaining(['osc.targets.desk', 'osc.outputs']));
    expect(again?.restartNeeded).not.toContain('osc.routes');
    expect(
      lines.some((l) => l.msg === 'osc.outputs not reloaded: the running ones stay until a restart'),
    ).toBe(true);
    const third = bus.next('pad_third');
    await oscsend(port, '/pad/3', 'i', 3);
    expect(await third).toMatchObject({ type: 'pad_third' });
  });
});
