/**
 * Datagrams the kernel drops before the OSC listener reads them (issue #10): a full receive buffer
 * drops them silently, but Linux counts them per socket (/proc/net/udp). They show per listener in
 * /health and /metrics, with a warning that names the cure.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { ListenerStats } from '../../../adapters/osc/listeners.js';
import type { Daemon } from '../../../daemon/daemon.js';
import { startDaemon, testConfig } from '../../helpers/daemon.js';
import { until } from '../../helpers/waiting.js';

let daemon: Daemon | undefined;
afterEach(async () => {
  await daemon?.stop();
  daemon = undefined;
});

/** Sends `count` OSC messages of ~1 KB to the port as fast as it can, then exits. */
const FLOOD = `
const dgram = require('node:dgram');
const [port, count] = process.argv.slice(1).map(Number);
const s = dgram.createSocket('udp4');
const address = Buffer.from('/flood\\0\\0,b\\0\\0');
const blob = Buffer.alloc(4 + 1000, 0x55);
blob.writeUInt32BE(1000, 0);
const packet = Buffer.concat([address, blob]);
let done = 0;
for (let i = 0; i < count; i++)
  s.send(packet, port, '127.0.0.1', (err) => {
    if (err) { console.error(err.message); process.exitCode = 1; }
    if (++done === count) s.close();
  });
`;

describe.skipIf(process.platform !== 'linux' || !existsSync('/proc/net/udp'))(
  'OSC kernel receive drops',
  () => {
    it('shows the datagrams the kernel dropped for a flooded UDP listener in /health and /metrics, and warns', async () => {
      let lines: Record<string, unknown>[];
      ({ daemon, lines } = await startDaemon(
        // The smallest receive buffer the config allows: the kernel grants twice that, ~128 KiB.
        testConfig({ osc: { listen: { host: '127.0.0.1', port: 0 }, recvBufferBytes: 65536 } }),
      ));
      const d = daemon;
      const udp0 = (): ListenerStats => {
        const listeners = d.health().parts.find((p) => p.name === 'osc')?.details?.listeners;
        const first = (listeners as ListenerStats[] | undefined)?.[0];
        if (first === undefined) throw new Error('no UDP listener');
        return first;
      };
      expect(udp0().kernelDrops).toBe(0);
      const count = 2_000;
      // spawnSync blocks this process, daemon included, while the child sends ~2 MB: the listener
      // cannot read, its receive buffer fills, and the kernel drops the rest. No timing involved.
      const flood = spawnSync(process.execPath, ['-e', FLOOD, String(udp0().port), String(count)], {
        timeout: 20_000,
        encoding: 'utf8',
      });
      expect(flood.status, flood.stderr).toBe(0);
      await until(
        () => (udp0().kernelDrops ?? 0) > 0 && udp0().packetsIn + (udp0().kernelDrops ?? 0) >= count,
        'the kernel drops in /health',
        10_000,
      );
      const l = udp0();
      // What reached the socket and what the kernel dropped account for every datagram sent (on
      // loopback the sender's own softirq delivers each datagram, so nothing is lost on the way).
      expect(l.packetsIn + (l.kernelDrops as number)).toBe(count);
      expect(l.packetsIn).toBeGreaterThan(0);

      const health = (await (await fetch(`${d.url}/health`)).json()) as {
        parts: { name: string; details?: { listeners: ListenerStats[] } }[];
      };
      const overHttp = health.parts.find((p) => p.name === 'osc')?.details?.listeners[0];
      expect(overHttp).toMatchObject({ kernelDrops: l.kernelDrops, packetsIn: l.packetsIn });

      const metrics = await (await fetch(`${d.url}/metrics`)).text();
      const line = metrics
        .split('\n')
        .find((m) => m.startsWith(`performia_osc_kernel_drops_total{listener="udp://127.0.0.1:${l.port}"}`));
      expect(Number(line?.split(' ').at(-1))).toBe(l.kernelDrops);

      const warning = lines.find((w) => w.code === 'PFM_ERR_OSC_RECV_DROPS');
      expect(warning).toMatchObject({ level: 40, listener: 'udp0', kernelDrops: expect.any(Number) });
      expect(warning?.msg).toMatch(
        /^The kernel dropped \d+ datagrams for OSC listener udp0 \(127\.0\.0\.1:\d+\): its receive buffer was full \(raise osc\.recvBufferBytes, 65536 asked, \d+ granted \(Linux caps it at net\.core\.rmem_max\), or lower the sender's rate\)$/,
      );
    });
  },
);
