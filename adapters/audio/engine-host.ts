/**
 * The audio engine's child process (child-engine.ts starts it with `fork`): a {@link LocalEngine}
 * driven over Node IPC. Its stdout and stderr are pipes the parent reads and logs, so what the audio
 * stack prints there never reaches the daemon's stdout. It writes nothing of its own on them.
 *
 * It runs a major GC now and then (gc-pacer.ts: finished voices' nodes stay in the render graph until
 * their wrappers are collected), which needs `--expose-gc` (the parent forks it with the flag). Run
 * without it, it plays on without collecting, and says so in its `opened` reply (the parent logs it).
 *
 * It exits when told to close, and when the parent goes away (the IPC channel closes), so an audio
 * process never outlives its daemon.
 */
import type { HostReply, HostRequest } from './child-engine.js';
import { type EngineOptions, type EngineProcessStats, LocalEngine } from './engine.js';
import { GcPacer, type GcPacing } from './gc-pacer.js';
import { webAudio } from './web-audio.js';

let engine: LocalEngine | undefined;
let pacer: GcPacer | undefined;

function reply(r: HostReply): void {
  process.send?.(r);
}

/**
 * A device id must name an output that exists: node-web-audio-api silently plays on the default device
 * when it does not, and the config would lie.
 */
async function checkSink(sinkId: string): Promise<string | undefined> {
  if (sinkId === 'default' || sinkId === 'none') return undefined;
  const outputs = (await webAudio().mediaDevices.enumerateDevices()).filter((d) => d.kind === 'audiooutput');
  if (outputs.some((d) => d.deviceId === sinkId)) return undefined;
  const known = outputs.map((d) => `${d.deviceId} (${d.label})`).join(', ') || 'none';
  return `no audio output with id ${sinkId}; outputs: ${known}`;
}

/** The pacer for `pacing`, and whether it collects (`unavailable`: asked to, but no `--expose-gc`). */
function gcPacer(pacing: GcPacing | false): { pacer: GcPacer; gc: 'on' | 'off' | 'unavailable' } {
  const gc = globalThis.gc;
  if (pacing === false) return { pacer: new GcPacer({ everyVoices: 1, everyMs: 1 }, undefined), gc: 'off' };
  if (typeof gc !== 'function') return { pacer: new GcPacer(pacing, undefined), gc: 'unavailable' };
  // `gc()`, not `gc({ type: 'major' })`: on Node 20.20 (V8 11.3) the options form returned in ~7 ms
  // having freed nothing here (300 finished voices and the heap's 14 MB still there); `gc()` freed both.
  return { pacer: new GcPacer(pacing, () => gc()), gc: 'on' };
}

async function open(options: EngineOptions, pacing: GcPacing | false): Promise<void> {
  try {
    const missing = await checkSink(options.sinkId);
    if (missing !== undefined) {
      reply({ op: 'error', message: missing, device: true });
      return;
    }
    engine = new LocalEngine(options, 'process');
    const info = await engine.open();
    const made = gcPacer(pacing);
    pacer = made.pacer;
    reply({ op: 'opened', info, gc: made.gc });
  } catch (err) {
    engine = undefined;
    // LocalEngine wraps the library's error as PFM_ERR_AUDIO_DEVICE; the parent wraps again: send the reason.
    const cause = (err as Error).cause;
    reply({
      op: 'error',
      message: cause instanceof Error ? cause.message : (err as Error).message,
      device: true,
    });
  }
}

function processStats(): EngineProcessStats | undefined {
  if (pacer === undefined) return undefined;
  const cpu = process.cpuUsage();
  const memory = process.memoryUsage();
  return {
    pid: process.pid,
    rssBytes: memory.rss,
    heapUsedBytes: memory.heapUsed,
    cpuMs: (cpu.user + cpu.system) / 1000,
    gc: pacer.stats(),
  };
}

/** Runs `step` and answers `id` when it settled. */
function answer(id: number, step: Promise<void> | undefined): void {
  void (step ?? Promise.resolve()).then(
    () => reply({ op: 'done', id }),
    (err: unknown) => reply({ op: 'done', id, error: (err as Error).message }),
  );
}

async function close(): Promise<void> {
  pacer?.stop();
  await engine?.close();
  engine = undefined;
  reply({ op: 'closed' });
  process.disconnect?.();
}

process.on('message', (raw) => {
  const m = raw as HostRequest;
  switch (m.op) {
    case 'open':
      void open(m.options, m.gc);
      return;
    case 'time':
      if (engine !== undefined)
        reply({
          op: 'time',
          id: m.id,
          audioTime: engine.currentTime(),
          stats: { ...engine.stats(), process: processStats() },
        });
      return;
    case 'play':
      pacer?.played(engine?.play(m.event, m.when) ?? 0);
      return;
    case 'silence':
      engine?.silence();
      return;
    case 'suspend':
      answer(m.id, engine?.suspend());
      return;
    case 'resume':
      answer(m.id, engine?.resume());
      return;
    case 'close':
      void close();
      return;
  }
});

// The parent is gone (stopped, or crashed): close the device and leave.
process.on('disconnect', () => {
  pacer?.stop();
  void engine?.close().finally(() => process.exit(0));
  if (engine === undefined) process.exit(0);
});
