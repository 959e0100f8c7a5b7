/**
 * `npm run demo` (issue #8): the real band — the conductor, bass, drums, harmony and analytics agents
 * of `agents/`, on the real bus and scheduler — for a few bars, with a readable transcript of who played
 * what on which beat, and the bus and analytics figures at the end, like the seed's demo. It is heard
 * through the default audio device where there is one (the audio adapter, when it is part of the
 * daemon's parts); otherwise the transcript is the whole show.
 *
 * Usage: `node dist/daemon/demo.js [--bars N] [--bpm B] [--quiet]` (N = 0 runs until Ctrl-C).
 */
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { validateConfig } from '../config/index.js';
import { type AnyMessage, MessageBus, systemClock } from './bus/index.js';
import type { Part, PartContext } from './kernel/part.js';
import { Scheduler } from './kernel/scheduler.js';
import { demoParts } from './parts.js';

const { values } = parseArgs({
  options: {
    bars: { type: 'string', default: '4' },
    bpm: { type: 'string', default: '120' },
    quiet: { type: 'boolean', default: false },
  },
});
const bars = Number(values.bars);
const bpm = Number(values.bpm);
if (!Number.isInteger(bars) || bars < 0 || !(bpm >= 20 && bpm <= 400)) {
  console.error('usage: demo [--bars N (integer >= 0, 0 = forever)] [--bpm 20..400] [--quiet]');
  process.exit(2);
}

const config = validateConfig({
  agents: { conductor: { bpm, autoStart: true }, analytics: { intervalMs: 1_000 } },
  log: { level: 'warn' },
});
const say = (who: string, text: string): void => {
  console.log(`${who.padEnd(10)} ${text}`);
};
// Warnings (no audio device, …) go to stderr: the transcript stays readable.
const logger = pino({ level: 'warn', base: null }, pino.destination(2));
// The bus's own warnings at error only: the first handler calls run cold (JIT) and would be "slow".
const bus = new MessageBus({ ...config.bus, logger: logger.child({ component: 'bus', level: 'error' }) });
const scheduler = new Scheduler({ clock: systemClock });
const ctx: PartContext = { bus, config, logger, scheduler, metrics: new Registry() };
const parts: Part[] = demoParts.flatMap((f) => f(ctx));

// The transcript: what the band plays, beat by beat, from a '*' observer like any other client.
let bar = 0;
let beatAt = 0;
const when = (m: AnyMessage): string => {
  const at = (m.payload as { at?: number }).at ?? m.at;
  if (at === undefined || beatAt === 0) return '';
  const offset = (at - beatAt) / (60_000 / bpm);
  return offset > 0.01 ? ` (+${offset.toFixed(2)} beat)` : '';
};
bus.subscribe('*', (m) => {
  if (values.quiet) return;
  const p = m.payload as Record<string, unknown>;
  switch (m.type) {
    case 'chord_change':
      say('conductor', `bar ${p.bar}: chord ${p.chord}`);
      return;
    case 'beat_event':
      bar = p.bar as number;
      beatAt = p.at as number;
      say('conductor', `bar ${bar} beat ${p.beat} at ${p.bpm} BPM`);
      return;
    case 'play_note':
      say(m.from, `note ${p.note} vel ${p.velocity} for ${(p.duration as number).toFixed(2)} s${when(m)}`);
      return;
    case 'play_chord':
      say(m.from, `chord ${(p.notes as number[]).join(' ')} vel ${p.velocity}${when(m)}`);
      return;
    case 'play_drums':
      say(m.from, `${(p.hits as string[]).join(' + ')} vel ${p.velocity}${when(m)}`);
      return;
  }
});

let finishing = false;
async function finish(): Promise<void> {
  if (finishing) return;
  finishing = true;
  // Agents first (no new notes), then a beat for the last ones to ring, then the outputs.
  for (const part of parts.filter((p) => p.kind === 'agent').reverse()) await part.stop();
  await new Promise((r) => setTimeout(r, 60_000 / bpm));
  for (const part of parts.filter((p) => p.kind === 'adapter').reverse()) await part.stop();
  await bus.stop();
  scheduler.stop();
  const s = bus.getStats();
  const analytics = parts.find((p) => p.name === 'analytics')?.health().details?.lastReport as
    | Record<string, unknown>
    | undefined;
  if (analytics !== undefined) {
    const totals = analytics.totals as Record<string, number>;
    const latency = analytics.latencyMs as { p50: number; p99: number; max: number };
    say(
      'analytics',
      `observed ${Object.values(totals).reduce((a, b) => a + b, 0)} messages: ${Object.entries(totals)
        .map(([t, n]) => `${t} ${n}`)
        .join(', ')}`,
    );
    say(
      'analytics',
      `publish -> handler latency (last second) p50 ${latency.p50.toFixed(3)} ms, p99 ${latency.p99.toFixed(3)} ms, max ${latency.max.toFixed(3)} ms`,
    );
  }
  say(
    'bus',
    `published ${s.published}, delivered ${s.delivered}, refused ${s.refused}, evicted ${s.evicted}, handler errors ${s.handlerErrors}`,
  );
  say('bus', `delivery latency p50 ${s.deliveryLatencyUs.p50} µs, p99 ${s.deliveryLatencyUs.p99} µs`);
  for (const p of parts) {
    const h = p.health();
    if (h.state !== 'stopped') say(p.name, `${h.state}${h.reason ? `: ${h.reason}` : ''}`);
  }
}

process.once('SIGINT', () => void finish());
process.once('SIGTERM', () => void finish());
await bus.start();
say('conductor', `${bpm} BPM, ${bars === 0 ? 'until Ctrl-C' : `${bars} bars`}`);
for (const p of parts.filter((x) => x.kind === 'adapter')) await p.start();
for (const p of parts.filter((x) => x.kind === 'agent')) await p.start();
for (const p of parts) {
  const h = p.health();
  if (h.state === 'degraded') say(p.name, `degraded: ${h.reason}`);
}
if (bars > 0) {
  const beats = bars * config.agents.conductor.timeSignature[0];
  // The first beat comes 2 × lookahead after the start; each is published a lookahead ahead: stop
  // just before the beat after the last bar would be published.
  const { lookaheadMs } = config.agents.conductor;
  const end = systemClock() + lookaheadMs + (beats - 0.5) * (60_000 / bpm);
  scheduler.at(end, () => void finish());
}
