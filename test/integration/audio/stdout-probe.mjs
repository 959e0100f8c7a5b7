// A stand-in for the daemon, run as a child process by device.test.ts: a pino logger writing JSON lines
// to stdout (as the daemon does) and the audio adapter on the default device. Its stdout must hold
// nothing but those JSON lines, whatever the audio stack prints. Run with ts-register.mjs (TypeScript).
import { pino } from 'pino';
import { AudioAdapter } from '../../../adapters/audio/audio-adapter.ts';
import { MessageBus, systemClock } from '../../../daemon/bus/index.ts';
import { Scheduler } from '../../../daemon/kernel/scheduler.ts';

const register = new URL('./ts-register.mjs', import.meta.url).pathname;
const logger = pino({ level: 'debug' });
const bus = new MessageBus({ clock: systemClock });
await bus.start();
const scheduler = new Scheduler({ clock: systemClock });
const adapter = new AudioAdapter(
  {
    sinkId: process.argv[2] ?? 'default',
    latencyHint: 'balanced',
    onMissingDevice: 'fallback',
    retryMs: 0,
    isolation: 'auto',
    masterGain: 0.5,
    maxVoices: 64,
    instruments: { 2: 'bass', 3: 'pad' },
    otherChannels: 'lead',
    seed: 1,
    clock: { syncIntervalMs: 100, windowMs: 60000, slewMs: 1000, stepMs: 10 },
  },
  bus,
  scheduler,
  logger.child({ component: 'adapter.audio' }),
  {
    child: {
      hostScript: new URL('../../../adapters/audio/engine-host.ts', import.meta.url),
      execArgv: ['--import', register],
    },
  },
);
await adapter.start();
bus.publish({
  type: 'play_note',
  payload: { note: 45, velocity: 100, duration: 0.1, channel: 2 },
  at: systemClock() + 50,
});
await new Promise((resolve) => setTimeout(resolve, 300));
logger.info({ health: adapter.health() }, 'probe health');
await adapter.stop();
scheduler.stop();
await bus.stop();
