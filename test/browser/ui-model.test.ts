/**
 * The dashboard's model, without a browser (issue #12): what the page makes of /health, /stats and the
 * stream (ui/src: pure modules, no DOM), and its one boundary rule (DESIGN.md: the page imports
 * nothing of the daemon but types). The page itself is tested in chromium (dashboard.test.ts).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { BusStats } from '../../daemon/bus/index.js';
import { BusFigures } from '../../ui/src/bus-figures.js';
import { MusicTime } from '../../ui/src/music.js';
import { PartsTracker } from '../../ui/src/parts.js';
import { Traffic } from '../../ui/src/traffic.js';
import type { AnyMessage, PartInfo } from '../../ui/src/types.js';
import { projectRoot } from '../helpers/layering.js';

const msg = (over: Partial<AnyMessage>): AnyMessage =>
  ({
    id: 1,
    type: 't',
    from: 'api',
    to: 'broadcast',
    priority: 2,
    payload: null,
    timestamp: 0,
    ...over,
  }) as AnyMessage;

describe('parts as the page shows them', () => {
  it('puts trouble first, and finds it inside details: a lost TCP target, failing sends, a bad state', () => {
    const tracker = new PartsTracker();
    const osc = (connected: boolean, sendErrors: number): PartInfo => ({
      name: 'osc',
      kind: 'adapter',
      state: 'ok',
      details: {
        published: 3,
        targets: [
          { name: 'desk', connected, sendErrors: 0, lastError: connected ? null : 'connect ECONNREFUSED' },
          { name: 'lights', sendErrors, lastError: sendErrors > 0 ? 'send ECONNREFUSED' : null },
        ],
      },
    });
    const drums: PartInfo = { name: 'drums', kind: 'agent', state: 'stopped' };
    const ok = tracker.update([osc(true, 0), drums], 1_000);
    expect(ok.map((p) => [p.name, p.level])).toEqual([
      ['drums', 'notice'],
      ['osc', 'ok'],
    ]);
    const lost = tracker.update([drums, osc(false, 2)], 2_000);
    expect(lost[0]?.name).toBe('osc');
    expect(lost[0]?.level).toBe('trouble');
    expect(lost[0]?.findings).toEqual([
      { where: 'target desk', what: 'not connected: connect ECONNREFUSED' },
      { where: 'target lights', what: 'failing now: send ECONNREFUSED' },
    ]);
    expect(lost[0]?.activeAt).toBe(2_000);
    // Errors that stopped rising are history after 10 s: the target is not failing now.
    const later = tracker.update([osc(true, 2), drums], 13_000);
    expect(later.find((p) => p.name === 'osc')?.level).toBe('ok');
  });

  it('says a sub-item state once when the part already gives the reason', () => {
    const reason = 'MIDI ports unavailable: no ALSA sequencer';
    const [midi] = new PartsTracker().update(
      [
        {
          name: 'midi',
          kind: 'adapter',
          state: 'degraded',
          reason,
          details: { ports: [{ id: 'virtual', state: 'unavailable', reason }] },
        },
      ],
      0,
    );
    expect(midi?.findings).toEqual([{ where: 'port virtual', what: 'unavailable' }]);
    expect(midi?.level).toBe('trouble');
  });
});

describe('bus figures', () => {
  const stats = (published: number[], extra: Partial<BusStats> = {}): BusStats => {
    const names = ['CRITICAL', 'HIGH', 'NORMAL', 'LOW'] as const;
    const counts = (n: number) => ({
      published: n,
      delivered: n,
      refused: 0,
      evicted: 0,
      coalesced: 0,
      discarded: 0,
      pending: 0,
    });
    return {
      state: 'running',
      published: published.reduce((a, b) => a + b, 0),
      delivered: 0,
      refused: 0,
      evicted: 0,
      coalesced: 0,
      discarded: 0,
      pending: 0,
      invalid: 0,
      maxQueueSize: 100,
      byPriority: Object.fromEntries(
        names.map((n, i) => [n, counts(published[i] ?? 0)]),
      ) as BusStats['byPriority'],
      queueDepth: { CRITICAL: 0, HIGH: 0, NORMAL: 5, LOW: 0 },
      handlerCalls: 0,
      handlerErrors: 0,
      slowHandlers: 0,
      unrouted: 0,
      subscribers: [],
      publishCostUs: { count: 0, p50: 0, p99: 0, max: 0 },
      deliveryLatencyUs: { count: 10, p50: 40, p99: 900, max: 1000 },
      ...extra,
    };
  };

  it('turns counters into rates per priority, and takes no difference across a daemon restart', () => {
    const b = new BusFigures();
    b.addStats(stats([0, 0, 0, 0]), 1_000);
    b.addStats(stats([2, 0, 1_000, 0], { refused: 10 }), 2_000);
    expect([0, 1, 2, 3].map((i) => b.rates.last(i))).toEqual([2, 0, 1_000, 0]);
    expect(b.losses.last(0)).toBe(10);
    expect(b.latency.last(1)).toBe(900);
    expect(b.depth.last(2)).toBe(5);
    b.addStats(stats([0, 0, 3, 0]), 3_000);
    expect(b.rates.pushed).toBe(1);
  });
});

describe('musical time', () => {
  it("measures each beat's lateness against its schedule (at − lookahead)", () => {
    const m = new MusicTime();
    m.addHealth([
      {
        name: 'conductor',
        kind: 'agent',
        state: 'ok',
        details: { bpm: 120, bar: 1, beat: 1, running: true, lookaheadMs: 100, chord: 'C' },
      },
      {
        name: 'midi',
        kind: 'adapter',
        state: 'ok',
        details: { clockIn: { din: { bpm: 121.5, locked: true, running: true } } },
      },
    ]);
    expect(m.conductor?.chord).toBe('C');
    expect(m.clocksIn).toEqual([{ endpoint: 'din', bpm: 121.5, locked: true, running: true }]);
    // Published 100 ms ahead: on time. Published 92 ms ahead: 8 ms late.
    m.addMessage(
      msg({ type: 'beat_event', timestamp: 900, payload: { beat: 1, bar: 2, bpm: 120, at: 1_000 } }),
      0,
    );
    m.addMessage(
      msg({ type: 'beat_event', timestamp: 1_408, payload: { beat: 2, bar: 2, bpm: 120, at: 1_500 } }),
      0,
    );
    expect(m.lateness.columns[1]).toEqual([0, 8]);
    expect(m.lateBeats).toBe(1);
    expect(m.lastBeat).toMatchObject({ bar: 2, beat: 2, latenessMs: 8 });
  });
});

describe('traffic', () => {
  it('keeps the newest messages and filters them by type, priority and source', () => {
    const t = new Traffic();
    for (let i = 1; i <= 5; i++)
      t.add(
        msg({ id: i, type: i % 2 ? 'odd' : 'even', priority: i === 5 ? 0 : 2, from: i < 3 ? 'osc' : 'api' }),
        i,
      );
    expect(t.latest({ type: 'odd', priority: '', source: '' }, 10).map((a) => a.m.id)).toEqual([5, 3, 1]);
    expect(t.latest({ type: '', priority: 'CRITICAL', source: '' }, 10).map((a) => a.m.id)).toEqual([5]);
    expect(t.latest({ type: '', priority: '', source: 'osc' }, 10).map((a) => a.m.id)).toEqual([2, 1]);
    expect([...t.types.keys()].sort()).toEqual(['even', 'odd']);
    t.sampleRate(1_000);
    t.add(msg({ id: 6 }), 1_500);
    t.sampleRate(2_000);
    expect(t.rate).toBe(1);
  });
});

describe("the page's boundary (DESIGN.md)", () => {
  it('imports nothing of the daemon but types', () => {
    const dir = join(projectRoot(), 'ui', 'src');
    const files = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => /\.tsx?$/.test(f));
    expect(files.length).toBeGreaterThan(10);
    const crossings = files.flatMap((f) =>
      [
        ...readFileSync(join(dir, f), 'utf8').matchAll(
          /^import (?!type )[^;]*?from '(\.\.\/)+(daemon|adapters|agents|config)\//gm,
        ),
      ].map((m) => `${f}: ${m[0]}`),
    );
    expect(crossings).toEqual([]);
  });
});
