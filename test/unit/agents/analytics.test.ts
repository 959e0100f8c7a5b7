import { afterEach, describe, expect, it } from 'vitest';
import { Analytics, type AnalyticsReport, percentile } from '../../../agents/analytics.js';
import { Priority } from '../../../daemon/bus/index.js';
import { agentsConfig, Band } from './band-harness.js';

let band: Band;
afterEach(async () => {
  await band?.stop();
});

const config = (intervalMs: number) => ({ ...agentsConfig().analytics, intervalMs });
const note = { note: 60, velocity: 90, duration: 0.5, channel: 1 };

describe('analytics', () => {
  it('reports counts, rates and publish → handler latency per interval, on the timeline', async () => {
    band = await new Band(1_000).start();
    const analytics = new Analytics(config(1_000), band.context);
    await analytics.start();
    // Ten notes delivered at once (latency 0) …
    band.clock.advanceTo(1_100);
    for (let i = 0; i < 10; i++) band.bus.publish({ type: 'play_note', from: 'bass', payload: note });
    await band.settle();
    // … and five tempo changes delivered 3 ms after their publish: the clock moves before the bus runs.
    band.clock.advanceTo(1_500);
    for (let i = 0; i < 5; i++)
      band.bus.publish({ type: 'tempo_change', from: 'api', payload: { bpm: 100 } });
    band.clock.advanceTo(1_503);
    await band.settle();
    await band.runTo(2_000);
    const reports = band.of('analytics_report');
    expect(reports).toHaveLength(1);
    expect(reports[0]!.priority).toBe(Priority.LOW);
    expect(reports[0]!.timestamp).toBe(2_000);
    expect(reports[0]!.payload).toEqual({
      at: 2_000,
      windowMs: 1_000,
      messages: 15,
      ratePerSec: 15,
      types: { play_note: { count: 10, ratePerSec: 10 }, tempo_change: { count: 5, ratePerSec: 5 } },
      latencyMs: { samples: 15, mean: 1, p50: 0, p99: 3, max: 3 },
      totals: { play_note: 10, tempo_change: 5 },
    });
    expect(analytics.health().details).toMatchObject({ lastReport: reports[0]!.payload, published: 1 });

    // The next interval: its own report is not counted; a message to another agent is.
    band.bus.publish({ type: 'play_note', from: 'api', to: 'bass', payload: note });
    await band.runTo(2_500);
    band.bus.publish({ type: 'play_note', from: 'api', payload: note });
    await band.runTo(3_000);
    const second = band.of('analytics_report')[1]!.payload as AnalyticsReport;
    expect(second).toMatchObject({
      at: 3_000,
      windowMs: 1_000,
      messages: 2,
      types: { play_note: { count: 2, ratePerSec: 2 } },
      latencyMs: { samples: 2, mean: 0, p50: 0, p99: 0, max: 0 },
      totals: { play_note: 12, tempo_change: 5 },
    });
    // An empty interval says so.
    await band.runTo(4_000);
    expect(band.of('analytics_report')[2]!.payload).toMatchObject({
      messages: 0,
      ratePerSec: 0,
      latencyMs: null,
    });
  });

  it('keeps its reports on an absolute series, and starts a new one after a restart', async () => {
    band = await new Band(0).start();
    const analytics = new Analytics(config(300), band.context);
    await analytics.start();
    await band.runTo(1_000, 7);
    expect(band.of('analytics_report').map((m) => m.timestamp)).toEqual([300, 600, 900]);
    await analytics.stop();
    expect(band.clock.pending).toBe(0);
    await band.runTo(2_000);
    expect(band.of('analytics_report')).toHaveLength(3);
    await analytics.start();
    await band.runTo(2_650);
    expect(band.of('analytics_report').map((m) => m.timestamp)).toEqual([300, 600, 900, 2_300, 2_600]);
    // The first report after the restart counts nothing: the only traffic was its own reports.
    expect(band.of('analytics_report')[3]!.payload).toMatchObject({ messages: 0, totals: {} });
  });

  it('takes nearest-rank percentiles', () => {
    const sorted = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(sorted, 0.5)).toBe(50);
    expect(percentile(sorted, 0.99)).toBe(99);
    expect(percentile([7], 0.99)).toBe(7);
    expect(percentile([], 0.5)).toBeNaN();
  });
});
