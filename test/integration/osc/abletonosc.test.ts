import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { decodePacket, encodeMessage } from '../../../adapters/osc/codec.js';
import type { OscMessage } from '../../../adapters/osc/types.js';
import { ABLETONOSC_PRESET } from '../../../config/presets.js';
import type { AnyMessage } from '../../../daemon/bus/index.js';
import type { Daemon } from '../../../daemon/daemon.js';
import { collector, oscPort, startDaemon, testConfig } from '../../helpers/daemon.js';
import { until } from '../../helpers/waiting.js';

let daemon: Daemon | undefined;
let live: Socket | undefined;
afterEach(async () => {
  await daemon?.stop();
  daemon = undefined;
  live?.close();
  live = undefined;
});

describe('the AbletonOSC preset against a stand-in for Live', () => {
  it("starts the listeners, turns beats and tempo into beat_event and tempo_change, and sets Live's tempo", async () => {
    // A stand-in for Live with AbletonOSC: records what it receives and answers like song.py does.
    const received: OscMessage[] = [];
    live = createSocket('udp4');
    const socket = live;
    let daemonPort = 0;
    const reply = (address: string, type: string, value: number) =>
      socket.send(encodeMessage(address, [{ type, value }]), daemonPort, '127.0.0.1');
    socket.on('message', (bytes: Buffer, _from: RemoteInfo) => {
      const m = decodePacket(bytes, { maxBytes: 65_536, maxDepth: 4 });
      if (m.kind !== 'message') return;
      received.push(m);
      if (m.address === '/live/song/set/tempo') reply('/live/song/get/tempo', 'f', m.args[0] as number);
    });
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
    const livePort = socket.address().port;

    // The preset's rules, with Live on a free port (a test binds no fixed port).
    const got: AnyMessage[] = [];
    const preset = ABLETONOSC_PRESET;
    ({ daemon } = await startDaemon(
      testConfig({
        osc: {
          listen: { host: '127.0.0.1', port: 0 },
          routes: preset.routes,
          outputs: preset.outputs,
          targets: { ableton: { ...preset.targets.ableton, port: livePort } },
        },
      }),
      [],
      [collector(got)],
    ));
    daemonPort = oscPort(daemon);
    await until(() => received.length >= 2, 'the start_listen requests');
    expect(received.map((m) => m.address)).toEqual([
      '/live/song/start_listen/beat',
      '/live/song/start_listen/tempo',
    ]);

    reply('/live/song/get/tempo', 'f', 126);
    await until(() => got.some((m) => m.type === 'tempo_change'), 'the tempo');
    for (let beat = 0; beat < 6; beat++) reply('/live/song/get/beat', 'i', beat);
    await until(() => got.filter((m) => m.type === 'beat_event').length === 6, 'six beats');
    const beats = got.filter((m) => m.type === 'beat_event');
    expect(beats.map((m) => m.priority)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(beats.map((m) => m.payload)).toMatchObject([
      { beat: 1, bar: 1, bpm: 126 },
      { beat: 2, bar: 1, bpm: 126 },
      { beat: 3, bar: 1, bpm: 126 },
      { beat: 4, bar: 1, bpm: 126 },
      { beat: 1, bar: 2, bpm: 126 },
      { beat: 2, bar: 2, bpm: 126 },
    ]);
    for (const b of beats) expect((b.payload as { at: number }).at).toBeCloseTo(b.timestamp, -1);

    // tempo_change from the API sets Live's tempo; Live's echo comes back as tempo_change and is not sent again.
    const res = await fetch(`${daemon.url}/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'tempo_change', payload: { bpm: 140 } }),
    });
    expect(res.status).toBe(202);
    await until(
      () => got.filter((m) => m.type === 'tempo_change' && m.from === 'osc').length === 2,
      "Live's echo",
    );
    const sets = received.filter((m) => m.address === '/live/song/set/tempo');
    expect(sets).toHaveLength(1);
    expect(sets[0]?.types).toBe('f');
    expect(sets[0]?.args[0]).toBe(140);
    await new Promise((r) => setTimeout(r, 100));
    expect(received.filter((m) => m.address === '/live/song/set/tempo')).toHaveLength(1);
  });
});
