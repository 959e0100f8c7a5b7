/**
 * `npm start` until the daemon exists (issue #3): the seed's five-agent demo on the real bus.
 *
 * A conductor keeps a drift-free beat (an absolute schedule on the bus clock, never chained intervals)
 * and publishes `beat_event` (CRITICAL) and `chord_change` (HIGH); bass, drums and harmony answer with
 * `play_*` messages (NORMAL) carrying the target time `at`; analytics watches everything (`'*'`) and
 * reports latency. Nothing is played yet: the audio and MIDI adapters come with later issues.
 *
 * Usage: `node dist/daemon/demo.js [--bars N] [--bpm B]` (N = 0 runs until Ctrl-C).
 */
import { parseArgs } from 'node:util';
import { type AnyMessage, MessageBus, Priority, systemClock } from './bus/index.js';

const PROGRESSION = ['C', 'Am', 'F', 'G'] as const;
const ROOTS: Record<string, number> = { C: 36, Am: 45, F: 41, G: 43 };
const VOICINGS: Record<string, number[]> = {
  C: [60, 64, 67],
  Am: [57, 60, 64],
  F: [53, 57, 60],
  G: [55, 59, 62],
};
const LOOKAHEAD_MS = 50;

const { values } = parseArgs({
  options: { bars: { type: 'string', default: '4' }, bpm: { type: 'string', default: '120' } },
});
const bars = Number(values.bars);
const bpm = Number(values.bpm);
if (!Number.isInteger(bars) || bars < 0 || !(bpm >= 20 && bpm <= 300)) {
  console.error('usage: demo [--bars N (integer >= 0, 0 = forever)] [--bpm 20..300]');
  process.exit(2);
}

const bus = new MessageBus();
const say = (who: string, text: string): void => {
  console.log(`${who.padEnd(10)} ${text}`);
};

// Bass: the chord's root on every downbeat. Chords arrive a beat ahead (HIGH) and beats are CRITICAL,
// so the bass files chords by bar rather than trusting arrival order.
const chordOfBar = new Map<number, string>();
bus.subscribe(
  'chord_change',
  (m) => {
    chordOfBar.set(m.payload.bar, m.payload.chord);
  },
  { agent: 'bass' },
);
bus.subscribe(
  'beat_event',
  (m) => {
    if (m.payload.beat !== 1) return;
    const chord = chordOfBar.get(m.payload.bar) ?? 'C';
    chordOfBar.delete(m.payload.bar);
    const note = ROOTS[chord] ?? 36;
    bus.publish({
      type: 'play_note',
      from: 'bass',
      payload: { note, velocity: 100, duration: 0.45, channel: 2, at: m.payload.at },
    });
    say('bass', `bar ${m.payload.bar}: root ${note} of ${chord}`);
  },
  { agent: 'bass' },
);

// Drums: kick on 1 and 3, snare on 2 and 4, hi-hat always.
bus.subscribe(
  'beat_event',
  (m) => {
    const hits = m.payload.beat % 2 === 1 ? ['kick', 'hihat'] : ['snare', 'hihat'];
    bus.publish({ type: 'play_drums', from: 'drums', payload: { hits, velocity: 96, at: m.payload.at } });
    say('drums', `beat ${m.payload.beat}: ${hits.join(' + ')}`);
  },
  { agent: 'drums' },
);

// Harmony: a close voicing of each new chord.
bus.subscribe(
  'chord_change',
  (m) => {
    const notes = VOICINGS[m.payload.chord] ?? [60, 64, 67];
    bus.publish({
      type: 'play_chord',
      from: 'harmony',
      payload: { notes, velocity: 70, duration: 1.9, channel: 3, at: m.payload.at },
    });
    say('harmony', `voicing ${m.payload.chord}: ${notes.join(' ')}`);
  },
  { agent: 'harmony' },
);

// Analytics: observes every message and measures publish-to-handler latency.
const latencies: number[] = [];
const counts = new Map<string, number>();
bus.subscribe(
  '*',
  (m: AnyMessage) => {
    latencies.push(systemClock() - m.timestamp);
    counts.set(m.type, (counts.get(m.type) ?? 0) + 1);
  },
  { name: 'analytics' },
);

// Conductor: beats published LOOKAHEAD_MS ahead of their time, on an absolute schedule.
const beatMs = 60_000 / bpm;
const origin = systemClock() + LOOKAHEAD_MS;
let beatIndex = 0;
let timer: NodeJS.Timeout | undefined;
const totalBeats = bars === 0 ? Number.POSITIVE_INFINITY : bars * 4;
const tick = (): void => {
  const at = origin + beatIndex * beatMs;
  const beat = (beatIndex % 4) + 1;
  const bar = Math.floor(beatIndex / 4) + 1;
  // The chord of a bar is announced a beat ahead (on the previous bar's last beat), at its downbeat.
  const announce = beatIndex === 0 ? bar : beat === 4 && beatIndex + 1 < totalBeats ? bar + 1 : 0;
  if (announce > 0) {
    const name = PROGRESSION[(announce - 1) % PROGRESSION.length] ?? 'C';
    const downbeat = origin + (announce - 1) * 4 * beatMs;
    bus.publish({
      type: 'chord_change',
      from: 'conductor',
      payload: { chord: name, bar: announce, at: downbeat },
    });
    say('conductor', `bar ${announce}: chord ${name}`);
  }
  bus.publish({
    type: 'beat_event',
    from: 'conductor',
    priority: Priority.CRITICAL,
    payload: { beat, bar, bpm, at },
  });
  beatIndex++;
  if (beatIndex >= totalBeats) {
    setTimeout(() => void finish(), beatMs);
    return;
  }
  // Re-arm against the absolute schedule: lateness of one tick never accumulates.
  timer = setTimeout(tick, Math.max(0, origin + beatIndex * beatMs - LOOKAHEAD_MS - systemClock()));
};

let finishing = false;
async function finish(): Promise<void> {
  if (finishing) return;
  finishing = true;
  if (timer !== undefined) clearTimeout(timer);
  const sorted = [...latencies].sort((a, b) => a - b);
  const pick = (q: number): string =>
    ((sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0) * 1000).toFixed(1);
  bus.publish({
    type: 'analytics_report',
    from: 'analytics',
    payload: { observed: latencies.length, p50Us: Number(pick(0.5)), maxUs: Number(pick(1)) },
  });
  await bus.stop();
  const s = bus.getStats();
  say(
    'analytics',
    `observed ${latencies.length} messages: ${[...counts].map(([t, n]) => `${t} ${n}`).join(', ')}`,
  );
  say('analytics', `publish -> handler latency p50 ${pick(0.5)} µs, max ${pick(1)} µs`);
  say(
    'bus',
    `published ${s.published}, delivered ${s.delivered}, refused ${s.refused}, evicted ${s.evicted}, handler errors ${s.handlerErrors}`,
  );
}

process.once('SIGINT', () => void finish());
process.once('SIGTERM', () => void finish());
await bus.start();
say('conductor', `${bpm} BPM, ${bars === 0 ? 'until Ctrl-C' : `${bars} bars`}`);
tick();
