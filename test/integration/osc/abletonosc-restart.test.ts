/**
 * Live restarts (issue #10, "AbletonOSC"): AbletonOSC forgets its listeners and announces itself with
 * `/live/startup`; the preset turns that into `osc_target_restart` and the adapter asks for beats and
 * tempo again, so they come back with no restart of Performia. A config reload sends the requests again
 * too (for a Live on another machine, whose /live/startup never reaches us).
 */
import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { decodePacket, encodeMessage } from '../../../adapters/osc/codec.js';
import { ABLETONOSC_PRESET } from '../../../config/presets.js';
import type { AnyMessage } from '../../../daemon/bus/index.js';
import { Daemon } from '../../../daemon/daemon.js';
import { defaultParts } from '../../../daemon/parts.js';
import { collector, memoryLogger, oscPort, testConfig } from '../../helpers/daemon.js';
import { until } from '../../helpers/waiting.js';

let daemon: Daemon | undefined;
let live: Socket | undefined;
afterEach(async () => {
  await daemon?.stop();
  daemon = undefined;
  live?.close();
  live = undefined;
});

/** A stand-in for Live with AbletonOSC that keeps the listener requests it got, and can restart. */
async function standIn(): Promise<{ socket: Socket; port: number; requests: string[] }> {
  const requests: string[] = [];
  const socket = createSocket('udp4');
  socket.on('message', (bytes: Buffer) => {
    const m = decodePacket(bytes, { maxBytes: 65_536, maxDepth: 4 });
    if (m.kind === 'message' && m.address.includes('/start_listen/')) requests.push(m.address);
  });
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
  return { socket, port: socket.address().port, requests };
}

describe('the AbletonOSC preset when Live restarts', () => {
  it('asks for beats and tempo again on /live/startup, and on a config reload', async () => {
    const s = await standIn();
    live = s.socket;
    const preset = ABLETONOSC_PRESET;
    const config = testConfig({
      osc: {
        listen: { host: '127.0.0.1', port: 0 },
        routes: preset.routes,
        outputs: preset.outputs,
        targets: { ableton: { ...preset.targets.ableton, port: s.port } },
      },
    });
    const got: AnyMessage[] = [];
    const { logger } = memoryLogger();
    daemon = new Daemon({
      config,
      logger,
      parts: [...defaultParts, collector(got)],
      reloadConfig: () => config,
    });
    await daemon.start();
    const port = oscPort(daemon);
    const asked = ['/live/song/start_listen/beat', '/live/song/start_listen/tempo'];
    await until(() => s.requests.length >= 2, 'the start_listen requests at start');
    expect(s.requests).toEqual(asked);

    // Live restarts: its listeners are gone, it says so.
    s.requests.length = 0;
    s.socket.send(encodeMessage('/live/startup', []), port, '127.0.0.1');
    await until(() => s.requests.length >= 2, 'the start_listen requests after /live/startup');
    expect(s.requests).toEqual(asked);
    const restart = got.find((m) => m.type === 'osc_target_restart');
    expect(restart?.payload).toEqual({ target: 'ableton' });

    // Beats flow again, through the listeners asked for anew.
    s.socket.send(encodeMessage('/live/song/get/beat', [{ type: 'i', value: 4 }]), port, '127.0.0.1');
    await until(() => got.some((m) => m.type === 'beat_event'), 'a beat after the restart');
    expect(got.find((m) => m.type === 'beat_event')?.payload).toMatchObject({ beat: 1, bar: 2 });

    // A reload (SIGHUP) asks again too.
    s.requests.length = 0;
    await daemon.reload();
    await until(() => s.requests.length >= 2, 'the start_listen requests after a reload');
    expect(s.requests).toEqual(asked);
  });

  it('says which target is unknown when a restart names none of them', async () => {
    const config = testConfig({
      osc: {
        listen: { host: '127.0.0.1', port: 0 },
        routes: [{ address: '/hello', type: 'osc_target_restart', payload: { target: { value: 'nobody' } } }],
        targets: { ableton: { host: '127.0.0.1', port: 9, protocol: 'udp', onStart: [{ address: '/x' }] } },
      },
    });
    const { logger, lines } = memoryLogger();
    daemon = new Daemon({ config, logger, parts: defaultParts });
    await daemon.start();
    const sender = createSocket('udp4');
    live = sender;
    sender.send(encodeMessage('/hello', []), oscPort(daemon), '127.0.0.1');
    await until(
      () => lines.some((l) => String(l.msg).includes('payload.target must name a target')),
      'the warning',
    );
    const line = lines.find((l) => String(l.msg).includes('payload.target must name a target'));
    expect(line?.msg).toContain('(known: ableton), got "nobody"');
  });
});
