import { afterEach, describe, expect, it } from 'vitest';
import { MessageBus, Priority } from '../../../daemon/bus/index.js';
import { idle } from '../../helpers/bus.js';

let bus: MessageBus;
afterEach(async () => {
  await bus?.stop({ drain: false });
});

/** Subscribes a recorder and returns what it received (message types, or payloads). */
function recorder(
  b: MessageBus,
  type: string,
  opts: Parameters<MessageBus['subscribe']>[2] = {},
): { got: string[]; off: () => boolean } {
  const got: string[] = [];
  const off = b.subscribe(
    type,
    (m) => {
      got.push(`${m.type}->${m.to}`);
    },
    opts,
  );
  return { got, off };
}

describe('routing', () => {
  it('reaches every subscriber of the type with a broadcast, and "*" subscribers', async () => {
    bus = new MessageBus();
    const bass = recorder(bus, 'chord_change', { agent: 'bass' });
    const harmony = recorder(bus, 'chord_change', { agent: 'harmony' });
    const anon = recorder(bus, 'chord_change');
    const observer = recorder(bus, '*');
    const other = recorder(bus, 'beat_event');
    await bus.start();
    bus.publish({ type: 'chord_change', from: 'conductor', payload: { chord: 'C', bar: 1, at: 0 } });
    await idle(bus);
    for (const r of [bass, harmony, anon, observer]) expect(r.got).toEqual(['chord_change->broadcast']);
    expect(other.got).toEqual([]);
  });

  it('reaches only the named agent and agent-less "*" observers with a directed message', async () => {
    bus = new MessageBus();
    const bass = recorder(bus, 'play_note', { agent: 'bass' });
    const bassAll = recorder(bus, '*', { agent: 'bass' });
    const drums = recorder(bus, 'play_note', { agent: 'drums' });
    const anon = recorder(bus, 'play_note');
    const observer = recorder(bus, '*');
    const drumsAll = recorder(bus, '*', { agent: 'drums' });
    await bus.start();
    bus.publish({
      type: 'play_note',
      from: 'harmony',
      to: 'bass',
      payload: { note: 36, velocity: 100, duration: 1, channel: 2 },
    });
    await idle(bus);
    expect(bass.got).toEqual(['play_note->bass']);
    expect(bassAll.got).toEqual(['play_note->bass']);
    expect(observer.got).toEqual(['play_note->bass']);
    expect(drums.got).toEqual([]);
    expect(anon.got).toEqual([]);
    expect(drumsAll.got).toEqual([]);
    expect(bus.getStats().delivered).toBe(1);
  });

  it('counts a message nobody takes as delivered and unrouted', async () => {
    bus = new MessageBus();
    await bus.start();
    bus.publish({ type: 'nobody', from: 't', to: 'ghost', payload: null });
    await idle(bus);
    const s = bus.getStats();
    expect(s.delivered).toBe(1);
    expect(s.unrouted).toBe(1);
  });

  it('filters by minPriority: HIGH receives CRITICAL and HIGH only', async () => {
    bus = new MessageBus();
    const got: number[] = [];
    bus.subscribe(
      'x',
      (m) => {
        got.push(m.priority);
      },
      { minPriority: Priority.HIGH },
    );
    await bus.start();
    for (const p of [Priority.LOW, Priority.NORMAL, Priority.HIGH, Priority.CRITICAL]) {
      bus.publish({ type: 'x', from: 't', priority: p, payload: null });
    }
    await idle(bus);
    expect(got).toEqual([Priority.CRITICAL, Priority.HIGH]);
  });

  it('lets a handler unsubscribe itself and others during dispatch', async () => {
    bus = new MessageBus();
    const calls: string[] = [];
    let offB: () => boolean = () => false;
    const offA = bus.subscribe('x', (m) => {
      calls.push(`a${m.payload as number}`);
      offA();
      offB(); // b comes after a in this very dispatch: it must not be called any more
    });
    offB = bus.subscribe('x', (m) => {
      calls.push(`b${m.payload as number}`);
    });
    bus.subscribe('x', (m) => {
      calls.push(`c${m.payload as number}`);
    });
    await bus.start();
    bus.publish({ type: 'x', from: 't', payload: 1 });
    bus.publish({ type: 'x', from: 't', payload: 2 });
    await idle(bus);
    expect(calls).toEqual(['a1', 'c1', 'c2']);
    expect(offA()).toBe(false); // second call is a harmless no-op
  });

  it('adds a subscriber that subscribes during dispatch from the next message on', async () => {
    bus = new MessageBus();
    const late: number[] = [];
    let added = false;
    bus.subscribe('x', () => {
      if (added) return;
      added = true;
      bus.subscribe('x', (m) => {
        late.push(m.payload as number);
      });
    });
    await bus.start();
    bus.publish({ type: 'x', from: 't', payload: 1 });
    bus.publish({ type: 'x', from: 't', payload: 2 });
    await idle(bus);
    expect(late).toEqual([2]);
  });

  it('rejects invalid subscriptions with PFM_ERR_BUS_INVALID_OPTION', () => {
    bus = new MessageBus();
    expect(() => bus.subscribe('', () => {})).toThrow(
      expect.objectContaining({ code: 'PFM_ERR_BUS_INVALID_OPTION' }),
    );
    expect(() => bus.subscribe('x', () => {}, { minPriority: 7 as Priority })).toThrow(/minPriority/);
    expect(() => bus.subscribe('x', () => {}, { agent: 'broadcast' })).toThrow(/agent/);
  });
});
