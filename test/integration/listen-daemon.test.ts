/**
 * The band follows a musician, end to end in the daemon (issue #9, "Following the musician"): a
 * recording made by sox (plucked C4 notes at 100 BPM) is listened to in real time, and with
 * `agents.conductor.follow` on, the conductor takes its tempo and every bar's chord takes its note as
 * root; the detections and the band's answer reach a WebSocket client on /stream.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, expect, it } from 'vitest';
import WebSocket from 'ws';
import { listenPartsWith } from '../../adapters/audio/listen/index.js';
import { agentParts } from '../../agents/index.js';
import { Daemon } from '../../daemon/daemon.js';
import { memoryLogger, testConfig } from '../helpers/daemon.js';
import { soxPlucks } from '../helpers/sox.js';
import { until } from '../helpers/waiting.js';
import { TS_REGISTER } from './audio/setup.js';

const dir = mkdtempSync(join(tmpdir(), 'pfm-follow-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let daemon: Daemon | undefined;
let ws: WebSocket | undefined;
afterEach(async () => {
  ws?.close();
  await daemon?.stop();
  daemon = undefined;
});

it('the conductor takes the tempo and the beat it hears, and a heard note roots each chord; /stream shows it', async () => {
  // One plucked C4 every 600 ms (100 BPM), 12 s.
  const song = await soxPlucks(dir, { note: 'C4', periodS: 0.6, soundS: 0.4, count: 20 });
  const config = testConfig({
    listen: { enabled: true, file: song, loop: true },
    agents: {
      enabled: true,
      conductor: { bpm: 120, progression: ['C', 'Am', 'F', 'G'], follow: { tempo: true, pitch: true } },
      drums: { enabled: false },
      analytics: { enabled: false },
    },
  });
  const { logger } = memoryLogger();
  const child = {
    hostScript: new URL('../../adapters/audio/listen/listen-host.ts', import.meta.url),
    execArgv: ['--import', TS_REGISTER],
  };
  daemon = new Daemon({ config, logger, parts: [listenPartsWith(child), agentParts] });
  await daemon.start();
  const seen: { type: string; payload: Record<string, unknown> }[] = [];
  ws = new WebSocket(`${daemon.url.replace('http', 'ws')}/stream`);
  ws.on('message', (data) => seen.push(JSON.parse(String(data))));
  await new Promise((resolve, reject) => ws!.once('open', resolve).once('error', reject));

  const of = (type: string) => seen.filter((m) => m.type === type).map((m) => m.payload);
  await until(
    () => of('beat_event').some((p) => Math.abs((p.bpm as number) - 100) < 1),
    'a beat at the tempo heard',
    30_000,
  );
  const tempo = of('tempo_detected')[0]!;
  expect(Math.abs((tempo.bpm as number) - 100)).toBeLessThan(1);
  expect(of('pitch_detected').some((p) => p.note === 'C4')).toBe(true);
  // Am, F and G take C as root once a C4 was heard in the bar before: Cm, C, C.
  await until(
    () => of('chord_change').filter((p) => p.chord === 'Cm').length >= 2,
    'chords rooted on C',
    20_000,
  );
  const chords = of('chord_change');
  const followed = chords.slice(chords.findIndex((p) => p.chord === 'Cm'));
  expect(followed.every((p) => p.chord === 'C' || p.chord === 'Cm')).toBe(true);
  // Every chord's time is its bar's downbeat, phase moves or not.
  const downbeats = new Map(
    of('beat_event')
      .filter((p) => p.beat === 1)
      .map((p) => [p.bar, p.at]),
  );
  for (const c of chords) if (downbeats.has(c.bar)) expect(c.at).toBe(downbeats.get(c.bar));
  // The beats slid onto the musician's: the last beats fall on onsets (the median within 15 ms).
  const onsets = of('onset_detected').map((p) => p.at as number);
  const last = of('beat_event')
    .slice(-6)
    .map((p) => Math.min(...onsets.map((o) => Math.abs(o - (p.at as number)))))
    .sort((a, b) => a - b);
  expect(last[3]).toBeLessThan(15);
  const listen = daemon.health().parts.find((p) => p.name === 'listen');
  expect(listen).toMatchObject({ state: 'ok', details: { source: 'file' } });
});
