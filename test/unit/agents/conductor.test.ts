import { afterEach, describe, expect, it } from 'vitest';
import { Conductor } from '../../../agents/conductor.js';
import type { ConductorConfig } from '../../../config/agents-schema.js';
import { Priority } from '../../../daemon/bus/index.js';
import { Band, conductorConfig } from './band-harness.js';

type TimeSignature = ConductorConfig['timeSignature'];

let band: Band;
afterEach(async () => {
  await band?.stop();
});

/** Beat n's index since the song's start, from its bar and beat (1-based) and the beats per bar. */
const indexOf = (p: { bar: number; beat: number }, perBar: number) => (p.bar - 1) * perBar + p.beat - 1;

describe('conductor: the beat', () => {
  it('publishes 1,000 beats exactly on schedule, each lookaheadMs before its time', async () => {
    band = await new Band(1_000).start();
    const bpm = 130; // a period that is not a whole number of ms: 461.538… ms
    const period = 60_000 / bpm;
    const conductor = new Conductor(conductorConfig({ bpm, lookaheadMs: 100 }), band.context);
    await conductor.start();
    const t0 = 1_000 + 200; // first beat: 2 × lookahead after start
    await band.runTo(t0 + 999 * period, period / 2);
    const beats = band.of('beat_event');
    expect(beats).toHaveLength(1_000);
    beats.forEach((m, n) => {
      expect(Math.abs(m.payload.at - (t0 + n * period))).toBeLessThan(1e-6);
      expect(m.at).toBe(m.payload.at);
      expect(Math.abs(m.timestamp - (m.payload.at - 100))).toBeLessThan(1e-6);
      expect(m.priority).toBe(Priority.CRITICAL);
      expect(m.to).toBe('broadcast');
      expect(m.from).toBe('conductor');
      expect(m.payload).toMatchObject({ bar: Math.floor(n / 4) + 1, beat: (n % 4) + 1, bpm });
    });
    // The last beat, 461 s of virtual time later, is still exact: nothing accumulates.
    expect(beats[999]!.payload.at).toBeCloseTo(t0 + 999 * period, 9);
    expect(conductor.health()).toMatchObject({
      state: 'ok',
      details: { bpm, bar: 250, beat: 4, running: true, chord: 'Am', errors: 0 },
    });
  });

  it('re-anchors at a tempo change: the next beat keeps its time, then the new period; no jump, no doubled beat', async () => {
    band = await new Band(0).start();
    const conductor = new Conductor(conductorConfig({ bpm: 120, lookaheadMs: 100 }), band.context);
    await conductor.start();
    // Beats at 200 + 500 n. Beat 5 (at 2700) is published at 2600; beat 6 at 3100.
    await band.runTo(2_650);
    expect(band.of('beat_event')).toHaveLength(6);
    band.bus.publish({ type: 'tempo_change', from: 'api', payload: { bpm: 60 } });
    await band.runTo(9_000);
    const beats = band.of('beat_event');
    const ats = beats.map((m) => m.payload.at);
    expect(ats.slice(0, 10)).toEqual([200, 700, 1200, 1700, 2200, 2700, 3200, 4200, 5200, 6200]);
    expect(beats.map((m) => m.payload.bpm).slice(0, 8)).toEqual([120, 120, 120, 120, 120, 120, 60, 60]);
    // Consecutive beat numbers: none doubled, none skipped.
    expect(beats.map((m) => indexOf(m.payload, 4))).toEqual(beats.map((_, i) => i));
    // Each beat is still published exactly lookaheadMs ahead.
    for (const m of beats) expect(m.timestamp).toBe(m.payload.at - 100);
    // Bar 3's chord was announced with beat 7 (at 4200), after the change: its time is beat 8's.
    const bar3 = band.of('chord_change').find((m) => m.payload.bar === 3)!;
    expect(bar3.payload.at).toBe(ats[8]);
    // The conductor handles tempo_change without publishing one.
    expect(band.of('tempo_change').map((m) => m.from)).toEqual(['api']);
    expect(conductor.health().details).toMatchObject({ bpm: 60 });
  });

  it('keeps an announced downbeat in place when the tempo changes in the last beat of a bar', async () => {
    band = await new Band(0).start();
    const conductor = new Conductor(conductorConfig({ bpm: 120, lookaheadMs: 100 }), band.context);
    await conductor.start();
    // Beat 3 (at 1700, published 1600) is the last of bar 1; with it, bar 2's chord announced at 2200.
    await band.runTo(1_650);
    band.bus.publish({ type: 'tempo_change', from: 'api', payload: { bpm: 240 } });
    await band.runTo(4_000);
    const ats = band.of('beat_event').map((m) => m.payload.at);
    expect(ats.slice(0, 8)).toEqual([200, 700, 1200, 1700, 2200, 2450, 2700, 2950]);
    expect(band.of('chord_change')[1]!.payload).toEqual({ chord: 'Am', bar: 2, at: 2200 });
    await conductor.stop();
  });

  it('refuses a tempo outside 20..400 BPM: counted, the beat goes on unchanged', async () => {
    band = await new Band(0).start();
    const conductor = new Conductor(conductorConfig({ bpm: 120 }), band.context);
    await conductor.start();
    await band.runTo(500);
    band.bus.publish({ type: 'tempo_change', from: 'osc', payload: { bpm: 0 } });
    band.bus.publish({ type: 'tempo_change', from: 'osc', payload: { bpm: Number.NaN } });
    await band.runTo(3_000);
    expect(band.of('beat_event').map((m) => m.payload.at)).toEqual([200, 700, 1200, 1700, 2200, 2700]);
    expect(conductor.health().details).toMatchObject({
      errors: 2,
      lastError: 'handler of tempo_change: Invalid agent setting: tempo NaN BPM is outside 20..400',
    });
  });
});

describe('conductor: chords and bars', () => {
  it('announces each bar’s chord on its bar line, a beat ahead, delivered before the downbeat', async () => {
    band = await new Band(0).start();
    const delivered: string[] = [];
    band.bus.subscribe('beat_event', (m) => delivered.push(`beat ${m.payload.bar}.${m.payload.beat}`), {
      agent: 'listener',
    });
    band.bus.subscribe('chord_change', (m) => delivered.push(`chord ${m.payload.bar} ${m.payload.chord}`), {
      agent: 'listener',
    });
    const conductor = new Conductor(conductorConfig({ bpm: 120, lookaheadMs: 100 }), band.context);
    await conductor.start();
    await band.runTo(200 + 10 * 2_000);
    const chords = band.of('chord_change');
    expect(chords.map((m) => m.payload.chord)).toEqual([
      'C',
      'Am',
      'F',
      'G',
      'C',
      'Am',
      'F',
      'G',
      'C',
      'Am',
      'F',
    ]);
    chords.forEach((m, i) => {
      const bar = i + 1;
      expect(m.payload).toEqual({ chord: m.payload.chord, bar, at: 200 + (bar - 1) * 2_000 });
      expect(m.priority).toBe(Priority.HIGH);
      expect(m.at).toBe(m.payload.at);
      // Bar 1 at start (2 × lookahead ahead), every other with the beat before its downbeat.
      expect(m.timestamp).toBe(bar === 1 ? 0 : m.payload.at - 500 - 100);
      expect(delivered.indexOf(`chord ${bar} ${m.payload.chord}`)).toBeLessThan(
        delivered.indexOf(`beat ${bar}.1`),
      );
    });
    expect(conductor.health().details).toMatchObject({ bar: 11, beat: 1, chord: 'F' });
  });

  it.each([
    [[3, 4] as TimeSignature, 3, 1_500],
    [[6, 8] as TimeSignature, 6, 3_000],
  ])('counts %j bars: %d beats of 500 ms', async (timeSignature, perBar, barMs) => {
    band = await new Band(0).start();
    const conductor = new Conductor(conductorConfig({ bpm: 120, timeSignature }), band.context);
    await conductor.start();
    // The last beat of bar 4 is published at its time less the lookahead.
    await band.runTo(200 + 4 * barMs - 500 - 100);
    const beats = band.of('beat_event');
    expect(beats).toHaveLength(4 * perBar);
    beats.forEach((m, n) => {
      expect(m.payload).toEqual({
        beat: (n % perBar) + 1,
        bar: Math.floor(n / perBar) + 1,
        bpm: 120,
        at: 200 + n * 500,
      });
    });
    expect(band.of('chord_change').map((m) => [m.payload.bar, m.payload.at])).toEqual([
      [1, 200],
      [2, 200 + barMs],
      [3, 200 + 2 * barMs],
      [4, 200 + 3 * barMs],
      [5, 200 + 4 * barMs], // announced with bar 4's last beat
    ]);
  });

  it('replaces the progression from the next bar not yet announced', async () => {
    band = await new Band(0).start();
    const conductor = new Conductor(conductorConfig({ bpm: 120 }), band.context);
    await conductor.start();
    // In bar 2 (2200..4200), before its last beat's turn (3600): bar 3 is not announced yet.
    await band.runTo(3_000);
    band.bus.publish({
      type: 'progression_change',
      from: 'api',
      payload: { chords: ['Dm7', 'G7', 'Cmaj7'] },
    });
    await band.runTo(200 + 7 * 2_000);
    expect(band.of('chord_change').map((m) => m.payload.chord)).toEqual([
      'C',
      'Am',
      'Dm7',
      'G7',
      'Cmaj7',
      'Dm7',
      'G7',
      'Cmaj7',
    ]);
    band.bus.publish({ type: 'progression_change', from: 'api', payload: { chords: ['C', 'Hm'] } });
    band.bus.publish({
      type: 'progression_change',
      from: 'api',
      payload: { notes: [] } as unknown as { chords: string[] },
    });
    await band.settle();
    expect(conductor.health().details).toMatchObject({
      errors: 2,
      lastError: 'handler of progression_change: progression_change: payload.chords must be a list',
      progression: ['Dm7', 'G7', 'Cmaj7'],
    });
  });

  it('fails to build on a chord symbol it cannot read, naming the key', () => {
    band = new Band(0);
    expect(() => new Conductor(conductorConfig({ progression: ['C', 'Xm'] }), band.context)).toThrow(
      'agents.conductor.progression[1]: Invalid chord symbol "Xm": a chord starts with its root, A to G',
    );
  });
});

describe('conductor: transport', () => {
  it('stops publishing at stop and continues at the next beat position', async () => {
    band = await new Band(0).start();
    const conductor = new Conductor(conductorConfig({ bpm: 120 }), band.context);
    await conductor.start();
    // Beats 0..4 published (beat 4 at 2200, published 2100); then stop in bar 2.
    await band.runTo(2_300);
    band.bus.publish({ type: 'transport', from: 'api', payload: { state: 'stop', position: 0 } });
    await band.runTo(10_000);
    expect(band.of('beat_event')).toHaveLength(5);
    expect(conductor.health().details).toMatchObject({ running: false, bar: 2, beat: 1 });
    const chordsBefore = band.of('chord_change').length;
    band.bus.publish({ type: 'transport', from: 'api', payload: { state: 'continue', position: 0 } });
    await band.runTo(13_000);
    const beats = band.of('beat_event').slice(5);
    // Bar 2 beat 2, 2 × lookahead after the continue, then on the beat.
    expect(beats.map((m) => [m.payload.bar, m.payload.beat, m.payload.at])).toEqual([
      [2, 2, 10_200],
      [2, 3, 10_700],
      [2, 4, 11_200],
      [3, 1, 11_700],
      [3, 2, 12_200],
      [3, 3, 12_700],
    ]);
    expect(beats[0]!.timestamp).toBe(10_100);
    // Mid-bar: no chord re-announced; bar 3's on its line, a beat ahead.
    expect(
      band
        .of('chord_change')
        .slice(chordsBefore)
        .map((m) => m.payload),
    ).toEqual([{ chord: 'F', bar: 3, at: 11_700 }]);
  });

  it('re-announces the bar’s chord when it continues on a bar line', async () => {
    band = await new Band(0).start();
    const conductor = new Conductor(conductorConfig({ bpm: 120 }), band.context);
    await conductor.start();
    // Beat 3 (last of bar 1) published at 1600, with bar 2's chord: stop before beat 4's turn (2100).
    await band.runTo(1_650);
    conductor.transport('stop');
    await band.runTo(5_000);
    conductor.transport('continue');
    await band.runTo(5_300);
    expect(band.of('chord_change').map((m) => m.payload)).toEqual([
      { chord: 'C', bar: 1, at: 200 },
      { chord: 'Am', bar: 2, at: 2_200 },
      { chord: 'Am', bar: 2, at: 5_200 },
    ]);
    expect(band.of('beat_event').at(-1)!.payload).toEqual({ beat: 1, bar: 2, bpm: 120, at: 5_200 });
  });

  it('with autoStart, announces the start as a transport message timed on the first beat, once', async () => {
    band = await new Band(1_000).start();
    const conductor = new Conductor(conductorConfig({ bpm: 120, lookaheadMs: 100 }), band.context);
    await conductor.start();
    await band.runTo(3_000);
    const starts = band.of('transport');
    expect(starts.map((m) => [m.payload, m.at, m.priority])).toEqual([
      [{ state: 'start', position: 0 }, 1_200, Priority.CRITICAL],
    ]);
    // Its own announcement does not restart it: the beats run on from the first.
    expect(band.of('beat_event')[0]!.payload.at).toBe(1_200);
    expect(band.of('beat_event').map((m) => m.payload.beat)).toEqual([1, 2, 3, 4]);
  });

  it('waits for a transport start without autoStart, and starts from a position', async () => {
    band = await new Band(0).start();
    const conductor = new Conductor(conductorConfig({ bpm: 120, autoStart: false }), band.context);
    await conductor.start();
    await band.runTo(3_000);
    expect(band.seen).toHaveLength(0);
    band.bus.publish({ type: 'transport', from: 'midi', payload: { state: 'start', position: 5.5 } });
    await band.runTo(4_000);
    // Position 5.5 beats: the next whole beat is 6, bar 2 beat 3; its bar's chord comes first.
    expect(band.of('chord_change').map((m) => m.payload)).toEqual([
      { chord: 'Am', bar: 2, at: 3_200 },
      { chord: 'F', bar: 3, at: 4_200 },
    ]);
    expect(band.of('beat_event').map((m) => [m.payload.bar, m.payload.beat, m.payload.at])).toEqual([
      [2, 3, 3_200],
      [2, 4, 3_700],
    ]);
  });

  it('starts again after the agent is stopped, with nothing left scheduled twice', async () => {
    band = await new Band(0).start();
    const conductor = new Conductor(conductorConfig({ bpm: 120 }), band.context);
    await conductor.start();
    await band.runTo(1_000);
    await conductor.stop();
    await conductor.stop();
    expect(conductor.health().state).toBe('stopped');
    expect(band.clock.pending).toBe(0);
    await band.runTo(5_000);
    expect(band.of('beat_event')).toHaveLength(2);
    // A stopped conductor does not take transport messages.
    band.bus.publish({ type: 'transport', from: 'api', payload: { state: 'start', position: 0 } });
    await band.runTo(6_000);
    expect(band.of('beat_event')).toHaveLength(2);
    expect(() => conductor.transport('start')).toThrow('conductor is stopped');
    await conductor.start();
    await conductor.start();
    expect(band.clock.pending).toBe(1);
    await band.runTo(7_000);
    expect(
      band
        .of('beat_event')
        .slice(2)
        .map((m) => [m.payload.bar, m.payload.beat, m.payload.at]),
    ).toEqual([
      [1, 1, 6_200],
      [1, 2, 6_700],
    ]);
  });
});
