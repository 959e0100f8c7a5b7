/**
 * The audio engine's child process (child-engine.ts starts it with `fork`): a {@link LocalEngine}
 * driven over Node IPC. Its stdout and stderr are pipes the parent reads and logs, so what the audio
 * stack prints there never reaches the daemon's stdout. It writes nothing of its own on them.
 *
 * It exits when told to close, and when the parent goes away (the IPC channel closes), so an audio
 * process never outlives its daemon.
 */
import type { HostReply, HostRequest } from './child-engine.js';
import { type EngineOptions, LocalEngine } from './engine.js';
import { webAudio } from './web-audio.js';

let engine: LocalEngine | undefined;

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

async function open(options: EngineOptions): Promise<void> {
  try {
    const missing = await checkSink(options.sinkId);
    if (missing !== undefined) {
      reply({ op: 'error', message: missing, device: true });
      return;
    }
    engine = new LocalEngine(options, 'process');
    reply({ op: 'opened', info: await engine.open() });
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

async function close(): Promise<void> {
  await engine?.close();
  engine = undefined;
  reply({ op: 'closed' });
  process.disconnect?.();
}

process.on('message', (raw) => {
  const m = raw as HostRequest;
  switch (m.op) {
    case 'open':
      void open(m.options);
      return;
    case 'time':
      if (engine !== undefined)
        reply({ op: 'time', id: m.id, audioTime: engine.currentTime(), stats: engine.stats() });
      return;
    case 'play':
      engine?.play(m.event, m.when);
      return;
    case 'silence':
      engine?.silence();
      return;
    case 'close':
      void close();
      return;
  }
});

// The parent is gone (stopped, or crashed): close the device and leave.
process.on('disconnect', () => {
  void engine?.close().finally(() => process.exit(0));
  if (engine === undefined) process.exit(0);
});
