#!/usr/bin/env -S node --min-semi-space-size=16
/**
 * The `performia` command (issue #3 and the issues after it): `start`, `check-config`, `send`, `monitor`,
 * `stats`, `ports`, `render`, `analyze`.
 * This is the composition root's entry point, so it is where the environment is read; everything
 * below gets it injected. Its own output goes to stdout/stderr; the daemon logs through pino.
 */
import { parseArgs } from 'node:util';
import { EasyMidiBackend } from '../adapters/midi/os-ports.js';
import { configProblemsOf, formatConfig, loadConfig, type PerformiaConfig } from '../config/index.js';
import { request, streamMessages } from './cli-client.js';
import { Daemon } from './daemon.js';
import { createLogger } from './logger.js';
import { defaultParts } from './parts.js';
import { SystemdNotifier } from './systemd-notify.js';

const out = (text: string): void => {
  process.stdout.write(`${text}\n`);
};
const err = (text: string): void => {
  process.stderr.write(`${text}\n`);
};
/** Prints `text` and reports success: the end of a command that only prints. */
const done = (text: string): number => {
  out(text);
  return 0;
};

const HELP: Record<string, string> = {
  main: `performia — OSC/MIDI gateway daemon

usage: performia <command> [options]

commands:
  start [--config FILE]          run the daemon (embedded default config without --config)
  check-config FILE              validate a config file and print the effective config
  send TYPE [options]            publish one message through the API
  monitor [options]              follow the live message stream
  stats [options]                print the bus statistics
  ports [options]                list MIDI ports and network MIDI sessions
  render --out FILE.wav [opts]   render the band to a WAV file, faster than real time
  analyze FILE.wav [--json]      print the pitch, onsets and tempo heard in a WAV file

Run 'performia <command> --help' for a command's options.`,
  start: `usage: performia start [--config FILE]

Runs the daemon. The config is the embedded default, overridden by FILE (or $PERFORMIA_CONFIG), then by
PERFORMIA_API_HOST, PERFORMIA_API_PORT, PERFORMIA_API_TOKEN, PERFORMIA_LOG_LEVEL, PERFORMIA_OSC_PORT,
PERFORMIA_MIDI_PORT.
SIGTERM/SIGINT stop it (draining the bus), SIGHUP reloads the config.`,
  'check-config': `usage: performia check-config FILE

Validates FILE merged over the embedded default (and the PERFORMIA_* environment overrides), without
starting anything. Prints the effective config (token redacted) and exits 0, or lists every problem and
exits 1.`,
  send: `usage: performia send TYPE [--payload JSON] [--priority P] [--to AGENT] [--at MS] [client options]

Publishes one message. P is 0..3 or CRITICAL, HIGH, NORMAL, LOW.`,
  monitor: `usage: performia monitor [--type T[,T…]] [--min-priority P] [client options]

Prints every message on the bus as it passes, one line each, until Ctrl-C.`,
  stats: `usage: performia stats [--json] [client options]

Prints the bus statistics.`,
  ports: `usage: performia ports [--json] [client options]

Lists the MIDI ports the operating system offers, the configured ports with their state, and the
network MIDI sessions, from the running daemon. Without a daemon, lists the OS ports only (and says why
there are none).`,
  render: `usage: performia render --out FILE.wav [--bars N] [--bpm B] [--seed S] [--config FILE]

Plays the band (the agents of the config's agents section) on a virtual clock and renders it with the
audio adapter's instruments to a 48 kHz, 16-bit stereo WAV, faster than real time. The same seed and
config render the same samples. Defaults: 8 bars at the config's tempo, seed from audio.seed.`,
  analyze: `usage: performia analyze FILE.wav [--json] [--channel N]

Streams FILE through the pitch, onset and tempo analyzer and prints what it hears, one line per event in
time order (seconds from the start of the file), then a summary. The channels are mixed to mono unless
--channel N (1-based) picks one. --json prints JSON lines only: one object per event, then a summary.
Reads PCM 8/16/24/32-bit and float 32/64-bit WAV, 1 to 32 channels, 8 to 192 kHz, of any length (memory
stays bounded). A file it cannot read exits 1 with the reason; a truncated file is analyzed as far as
it goes, then reported.`,
  client: `client options:
  --url URL        the daemon's API (default $PERFORMIA_API_URL, else http://127.0.0.1:$PERFORMIA_API_PORT or 7070)
  --token TOKEN    bearer token (default $PERFORMIA_API_TOKEN)
  --config FILE    take the API address and token from this config file`,
};

const CLIENT_OPTIONS = {
  url: { type: 'string' },
  token: { type: 'string' },
  config: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** The API address and token the client commands use. */
function clientTarget(values: { url?: string; token?: string; config?: string }): {
  url: string;
  token: string;
} {
  const env = process.env;
  if (values.config !== undefined) {
    const cfg = loadConfig({ file: values.config, env });
    const host = cfg.api.host === '0.0.0.0' || cfg.api.host === '::' ? '127.0.0.1' : cfg.api.host;
    return {
      url: values.url ?? `http://${host.includes(':') ? `[${host}]` : host}:${cfg.api.port}`,
      token: values.token ?? cfg.api.token,
    };
  }
  const url = values.url ?? env.PERFORMIA_API_URL ?? `http://127.0.0.1:${env.PERFORMIA_API_PORT ?? '7070'}`;
  return { url, token: values.token ?? env.PERFORMIA_API_TOKEN ?? '' };
}

async function start(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { config: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) return done(HELP.start as string);
  const env = process.env;
  const load = (): PerformiaConfig => loadConfig({ file: values.config, env });
  let config: PerformiaConfig;
  try {
    config = load();
  } catch (e) {
    err(`performia: ${(e as Error).message}`);
    return 2;
  }
  const logger = createLogger(config.log, process.stdout.isTTY === true);
  const notifier = new SystemdNotifier({ env, logger: logger.child({ component: 'systemd' }) });
  const daemon = new Daemon({ config, logger, parts: defaultParts, notifier, reloadConfig: load });
  let stopping: Promise<void> | undefined;
  const shutdown = (signal: string): void => {
    if (stopping !== undefined) return;
    logger.info({ signal }, 'signal received: stopping');
    stopping = daemon.stop().then(() => {
      process.exitCode = 0;
      // Whatever still holds the event loop after every part stopped must not keep a stopped daemon alive.
      setTimeout(() => process.exit(0), 1_000).unref();
    });
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGHUP', () => {
    logger.info({ signal: 'SIGHUP' }, 'signal received: reloading config');
    void daemon.reload();
  });
  process.on('unhandledRejection', (reason) => {
    // A bug, not wire input: log it loudly and keep the show running.
    logger.error({ err: reason }, 'unhandled promise rejection');
  });
  process.on('uncaughtException', (e) => {
    // State may be corrupt after an uncaught exception: stop cleanly and let systemd restart us.
    logger.fatal({ err: e }, 'uncaught exception: stopping');
    void daemon.stop().finally(() => process.exit(1));
  });
  try {
    await daemon.start();
  } catch (e) {
    logger.fatal(
      { code: (e as { code?: string }).code, err: (e as Error).message },
      'performia failed to start',
    );
    await daemon.stop();
    return 1;
  }
  return -1; // keep running
}

function checkConfig(args: string[]): number {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { help: { type: 'boolean', short: 'h' } },
  });
  if (values.help || positionals.length !== 1) {
    (values.help ? out : err)(HELP['check-config'] as string);
    return values.help ? 0 : 2;
  }
  const file = positionals[0] as string;
  try {
    const config = loadConfig({ file, env: process.env });
    err(`${file}: OK`);
    out(formatConfig(config, { redact: true }));
    return 0;
  } catch (e) {
    const problems = configProblemsOf(e);
    err(`${file}: ${problems.length > 0 ? `${problems.length} problem(s)` : 'invalid'}`);
    if (problems.length > 0) for (const p of problems) err(`  ${p.message ?? JSON.stringify(p)}`);
    else err(`  ${(e as Error).message}`);
    return 1;
  }
}

async function send(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      ...CLIENT_OPTIONS,
      payload: { type: 'string' },
      priority: { type: 'string' },
      to: { type: 'string' },
      at: { type: 'string' },
    },
  });
  if (values.help || positionals.length !== 1) {
    (values.help ? out : err)(`${HELP.send}\n\n${HELP.client}`);
    return values.help ? 0 : 2;
  }
  let payload: unknown = null;
  if (values.payload !== undefined) {
    try {
      payload = JSON.parse(values.payload);
    } catch (e) {
      err(`performia send: --payload is not JSON: ${(e as Error).message}`);
      return 2;
    }
  }
  const priority =
    values.priority === undefined
      ? undefined
      : /^\d$/.test(values.priority)
        ? Number(values.priority)
        : values.priority.toUpperCase();
  const body = {
    type: positionals[0],
    payload,
    priority,
    to: values.to,
    at: values.at === undefined ? undefined : Number(values.at),
  };
  const target = clientTarget(values);
  const res = (await request(target, 'POST', '/messages', body)) as {
    id: number;
    type: string;
    priority: number;
  };
  out(`published #${res.id} ${res.type} (priority ${res.priority})`);
  return 0;
}

async function monitor(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { ...CLIENT_OPTIONS, type: { type: 'string' }, 'min-priority': { type: 'string' } },
  });
  if (values.help) return done(`${HELP.monitor}\n\n${HELP.client}`);
  const query = new URLSearchParams();
  if (values.type !== undefined) query.set('type', values.type);
  if (values['min-priority'] !== undefined) query.set('minPriority', values['min-priority'].toUpperCase());
  // Its reader gone (`performia monitor | head`): stdout fails with EPIPE on every write; end the
  // stream quietly, as `head` expects, instead of a stack trace.
  const readerGone = new AbortController();
  const onError = (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') readerGone.abort();
  };
  process.stdout.on('error', onError);
  try {
    await streamMessages(clientTarget(values), query, out, readerGone.signal);
  } finally {
    process.stdout.off('error', onError);
  }
  return 0;
}

async function stats(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { ...CLIENT_OPTIONS, json: { type: 'boolean' } } });
  if (values.help) return done(`${HELP.stats}\n\n${HELP.client}`);
  const s = (await request(clientTarget(values), 'GET', '/stats')) as Record<string, unknown>;
  if (values.json) return done(JSON.stringify(s, null, 2));
  const lat = s.deliveryLatencyUs as { p50: number; p99: number; max: number };
  out(`state         ${String(s.state)}`);
  for (const k of [
    'published',
    'delivered',
    'refused',
    'evicted',
    'coalesced',
    'discarded',
    'pending',
    'handlerErrors',
    'slowHandlers',
  ]) {
    out(`${k.padEnd(14)}${String(s[k])}`);
  }
  out(`latency       p50 ${lat.p50} µs, p99 ${lat.p99} µs, max ${lat.max} µs`);
  return 0;
}

interface PortsAnswer {
  available: boolean;
  reason?: string;
  inputs: string[];
  outputs: string[];
  configured: { id: string; direction: string; osName?: string; state: string; reason?: string }[];
  network: {
    listener?: { host: string; controlPort: number; dataPort: number; state: string };
    sessions?: { id: string; peer: string; stage: string; latencyMs?: number }[];
  };
}

/** The OS MIDI ports read here, when no daemon answers. */
function localPorts(): PortsAnswer {
  const backend = new EasyMidiBackend();
  const reason = backend.unavailable();
  if (reason !== undefined)
    return { available: false, reason, inputs: [], outputs: [], configured: [], network: {} };
  return {
    available: true,
    inputs: backend.inputs(),
    outputs: backend.outputs(),
    configured: [],
    network: {},
  };
}

async function ports(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { ...CLIENT_OPTIONS, json: { type: 'boolean' } } });
  if (values.help) return done(`${HELP.ports}\n\n${HELP.client}`);
  let answer: PortsAnswer;
  let daemonUp = true;
  try {
    answer = (await request(clientTarget(values), 'GET', '/midi/ports')) as PortsAnswer;
  } catch (e) {
    if ((e as { code?: string }).code !== 'PFM_ERR_CLI_REQUEST') throw e;
    daemonUp = false;
    answer = localPorts();
  }
  if (values.json) return done(JSON.stringify({ daemon: daemonUp, ...answer }, null, 2));
  if (!daemonUp) out('(the daemon is not running: OS ports only, no network sessions)');
  if (!answer.available) out(answer.reason ?? 'MIDI ports unavailable');
  else {
    out(`inputs:  ${answer.inputs.length === 0 ? '(none)' : ''}`);
    for (const n of answer.inputs) out(`  ${n}`);
    out(`outputs: ${answer.outputs.length === 0 ? '(none)' : ''}`);
    for (const n of answer.outputs) out(`  ${n}`);
  }
  if (!daemonUp) return 0;
  out('configured:');
  for (const p of answer.configured) {
    out(
      `  ${p.id.padEnd(12)} ${p.direction.padEnd(4)} ${p.state.padEnd(12)} ${p.osName ?? ''}${p.reason && p.state !== 'open' ? `  (${p.reason})` : ''}`,
    );
  }
  const l = answer.network.listener;
  out(
    l === undefined
      ? 'network MIDI: off'
      : `network MIDI: ${l.state} on ${l.host}:${l.controlPort} (data ${l.dataPort})`,
  );
  for (const s of answer.network.sessions ?? []) {
    const latency = s.latencyMs === undefined ? '' : `  latency ${s.latencyMs.toFixed(2)} ms`;
    out(`  ${s.id.padEnd(24)} ${s.stage.padEnd(8)} ${s.peer}${latency}`);
  }
  return 0;
}

async function analyze(args: string[]): Promise<number> {
  const { runAnalyze } = await import('./analyze-command.js');
  return runAnalyze(args, { out, err, help: HELP.analyze as string });
}

async function render(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      out: { type: 'string' },
      bars: { type: 'string', default: '8' },
      bpm: { type: 'string' },
      seed: { type: 'string' },
      config: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return done(HELP.render as string);
  if (values.out === undefined) {
    err(`performia render: --out FILE.wav is required\n\n${HELP.render}`);
    return 2;
  }
  const config = loadConfig({ file: values.config, env: process.env });
  const bars = Number(values.bars);
  const bpm = values.bpm === undefined ? config.agents.conductor.bpm : Number(values.bpm);
  const seed = values.seed === undefined ? config.audio.seed : Number(values.seed);
  if (!Number.isInteger(bars) || bars < 1 || bars > 10_000) {
    err(`performia render: --bars must be an integer 1..10000, got ${values.bars}`);
    return 2;
  }
  if (!(bpm >= 20 && bpm <= 400)) {
    err(`performia render: --bpm must be 20..400, got ${values.bpm}`);
    return 2;
  }
  if (!Number.isInteger(seed)) {
    err(`performia render: --seed must be an integer, got ${values.seed}`);
    return 2;
  }
  const { renderBand } = await import('./render.js');
  const r = await renderBand({ config, bars, bpm, seed, out: values.out });
  out(
    `${values.out}: ${r.seconds.toFixed(1)} s at 48 kHz, ${r.messages} messages, ${r.voices} voices, rendered in ${(r.wallMs / 1000).toFixed(2)} s (${r.speed.toFixed(0)}x real time)`,
  );
  return 0;
}

const COMMANDS: Record<string, (args: string[]) => number | Promise<number>> = {
  start,
  'check-config': checkConfig,
  send,
  monitor,
  stats,
  ports,
  render,
  analyze,
};

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    (command === undefined ? err : out)(HELP.main as string);
    return command === undefined ? 2 : 0;
  }
  const run = COMMANDS[command];
  if (run === undefined) {
    err(`performia: unknown command "${command}"\n\n${HELP.main}`);
    return 2;
  }
  try {
    return await run(rest);
  } catch (e) {
    const code = (e as { code?: string }).code;
    err(`performia ${command}: ${code?.startsWith('PFM_ERR_') ? `${code}: ` : ''}${(e as Error).message}`);
    return code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' || code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' ? 2 : 1;
  }
}

const code = await main(process.argv.slice(2));
if (code >= 0) process.exitCode = code;
