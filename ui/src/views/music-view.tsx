/**
 * Musical time, where the band exists: tempo, bar and beat (the beat mark lit when the beat sounds,
 * not when its message came ahead of it), the chord, each beat's lateness plotted, the MIDI clock in
 * and out, the audio output's late events and clock drift.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { LATE_BEAT_MS } from '../music.js';
import type { Store } from '../store.js';
import { Plot } from './plot.js';
import { fmt, useChannelsWhileSeen } from './use-store.js';

/** The bar.beat position, lit when the last beat sounds. */
function Position({ store }: { store: Store }) {
  const beat = store.music.lastBeat;
  const [lit, setLit] = useState(false);
  useEffect(() => {
    if (beat === undefined) return;
    const on = window.setTimeout(() => setLit(true), Math.max(0, beat.soundsAt - Date.now()));
    const off = window.setTimeout(() => setLit(false), Math.max(0, beat.soundsAt - Date.now()) + 120);
    return () => {
      window.clearTimeout(on);
      window.clearTimeout(off);
    };
  }, [beat]);
  return (
    <div class={`big ${lit ? 'lit' : ''}`} id="position">
      <span class="label">bar.beat</span>
      {beat === undefined ? '–' : `${beat.bar}.${beat.beat}`}
    </div>
  );
}

function Clocks({ store }: { store: Store }) {
  const m = store.music;
  return (
    <dl class="totals">
      {m.clocksIn.length === 0 ? (
        <div>
          <dt>MIDI clock in</dt>
          <dd>none followed</dd>
        </div>
      ) : (
        m.clocksIn.map((c) => (
          <div key={c.endpoint} class={c.running && !c.locked ? 'warn' : ''}>
            <dt>MIDI clock in · {c.endpoint}</dt>
            <dd>
              {c.bpm === undefined ? '– bpm' : `${fmt(c.bpm, 1)} bpm`} · {c.locked ? 'locked' : 'not locked'}{' '}
              · {c.running ? 'running' : 'stopped'}
            </dd>
          </div>
        ))
      )}
      {m.clockOut !== undefined && (
        <div>
          <dt>MIDI clock out</dt>
          <dd>
            {m.clockOut.running === true ? 'running' : 'stopped'} · {fmt(m.clockOut.bpm as number, 1)} bpm
          </dd>
        </div>
      )}
      {m.audio !== undefined && (
        <>
          <div class={m.audio.late > 0 ? 'warn' : ''}>
            <dt>audio late events ({m.audio.part})</dt>
            <dd>
              {fmt(m.audio.late)} (max {fmt(m.audio.lateMaxMs, 1)} ms)
            </dd>
          </div>
          <div>
            <dt>bus ↔ audio clock</dt>
            <dd>
              drift {fmt(m.audio.driftPpm, 1)} ppm · residual {fmt(m.audio.residualMs, 2)} ms
              {m.audio.sink !== undefined ? ` · sink ${m.audio.sink}` : ''}
            </dd>
          </div>
        </>
      )}
    </dl>
  );
}

export function MusicView({ store }: { store: Store }) {
  const section = useRef<HTMLElement>(null);
  useChannelsWhileSeen(store, section, 'music');
  const m = store.music;
  const c = m.conductor;
  const bpm = m.lastBeat?.bpm ?? c?.bpm;
  return (
    <section aria-labelledby="music-h" class="panel" ref={section}>
      <h2 id="music-h">Musical time</h2>
      {c === undefined && m.beats === 0 ? (
        <p class="muted">No conductor in this daemon (agents.enabled, agents.conductor): no beats to show.</p>
      ) : (
        <>
          <div class="bigs">
            <div class="big" id="tempo">
              <span class="label">tempo</span>
              {fmt(bpm, 1)} <small>bpm</small>
            </div>
            <Position store={store} />
            <div class="big" id="chord">
              <span class="label">chord</span>
              {c?.chord ?? m.lastChord?.chord ?? '–'}
            </div>
            <div class="big">
              <span class="label">transport</span>
              {c === undefined ? (m.lastTransport ?? '–') : c.running ? 'playing' : 'stopped'}
            </div>
          </div>
          {c !== undefined && c.progression.length > 0 && (
            <p>
              Progression: <b>{c.progression.join(' ')}</b>
            </p>
          )}
          <p>
            Beats seen {fmt(m.beats)}, late (&gt; {LATE_BEAT_MS} ms after schedule) {fmt(m.lateBeats)}
            {m.lastTempo !== undefined &&
              ` · last tempo change ${fmt(m.lastTempo.bpm, 1)} bpm from ${m.lastTempo.from}`}
          </p>
          <Plot
            store={store}
            channel="music"
            id="plot-beats"
            title="Beat lateness, ms"
            series={m.lateness}
            digits={2}
          />
        </>
      )}
      <Clocks store={store} />
    </section>
  );
}
