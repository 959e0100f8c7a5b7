/** Builds daemons for tests: in-process, on free ports, quiet logs captured in memory. */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { type PerformiaConfig, validateConfig } from '../../config/index.js';
import type { AnyMessage } from '../../daemon/bus/index.js';
import { Daemon } from '../../daemon/daemon.js';
import type { Part, PartFactory, PartHealth } from '../../daemon/kernel/part.js';
import { defaultParts } from '../../daemon/parts.js';

/** A config on free ports, with `overrides` deep-merged (one level deep per section). */
export function testConfig(overrides: Record<string, Record<string, unknown>> = {}): PerformiaConfig {
  const base: Record<string, Record<string, unknown>> = {
    api: { port: 0 },
    osc: { listen: { host: '127.0.0.1', port: 0 } },
    // OS MIDI ports off (tests of them enable them): on a machine without ALSA they would make every
    // daemon degraded. Network MIDI on a free pair of ports.
    midi: { ports: { enabled: false }, network: { port: 0 } },
    // The band off (its tests turn it on): a test daemon plays nothing unless asked.
    agents: { enabled: false },
    audio: { enabled: false },
    // Listening off (its tests turn it on): without an input device it would make every daemon degraded.
    listen: { enabled: false },
    log: { level: 'debug', pretty: 'never' },
  };
  for (const [k, v] of Object.entries(overrides)) base[k] = { ...(base[k] ?? {}), ...v };
  return validateConfig(base);
}

/** A pino logger writing JSON lines into `lines`. */
export function memoryLogger(): { logger: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      for (const l of String(chunk).split('\n')) if (l.trim() !== '') lines.push(JSON.parse(l));
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines };
}

/** A part whose health the test sets. */
export class FakePart implements Part {
  started = 0;
  stopped = 0;
  current: PartHealth = { state: 'ok' };
  constructor(
    readonly name: string,
    readonly kind: 'adapter' | 'agent',
    private readonly failStart?: string,
  ) {}
  async start(): Promise<void> {
    this.started++;
    if (this.failStart !== undefined) throw new Error(this.failStart);
  }
  async stop(): Promise<void> {
    this.stopped++;
    this.current = { state: 'stopped' };
  }
  health(): PartHealth {
    return this.current;
  }
}

/**
 * Starts a daemon with the default parts (the OSC adapter, …), plus `parts` and `factories`; the caller
 * stops it. `factories` get the part context, e.g. to subscribe a collector to the bus.
 */
export async function startDaemon(
  config: PerformiaConfig,
  parts: Part[] = [],
  factories: PartFactory[] = [],
): Promise<{ daemon: Daemon; lines: Record<string, unknown>[] }> {
  const { logger, lines } = memoryLogger();
  const factory: PartFactory = () => parts;
  const daemon = new Daemon({ config, logger, parts: [...defaultParts, factory, ...factories] });
  await daemon.start();
  return { daemon, lines };
}

/** A factory that records every bus message (as a '*' observer) into `into`. */
export function collector(into: AnyMessage[]): PartFactory {
  return (ctx) => {
    ctx.bus.subscribe('*', (m) => {
      into.push(m);
    });
    return [];
  };
}

/** The bound port of the OSC adapter's n-th listener. */
export function oscPort(daemon: Daemon, n = 0): number {
  const osc = daemon.health().parts.find((p) => p.name === 'osc');
  const listeners = (osc?.details?.listeners ?? []) as { port: number }[];
  const port = listeners[n]?.port;
  if (port === undefined) throw new Error(`no OSC listener ${n}: ${JSON.stringify(osc)}`);
  return port;
}
