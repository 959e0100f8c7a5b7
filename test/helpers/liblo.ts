/**
 * liblo's command-line tools as the independent outside OSC peer (Debian package liblo-tools, installed
 * by .ci/run): `oscsend` sends one message, `oscdump` prints every message it receives. Over TCP
 * (`osc.tcp://` URLs) liblo 0.31 sends OSC 1.0 framing, an int32 big-endian length before each packet
 * (captured: `oscsend osc.tcp://…/addr i 1` writes 00000010 2f616464…); oscdump reads that, and SLIP too.
 */
import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { eachLine, Sightings } from './waiting.js';

/** True when both tools are installed. */
export const libloAvailable = ['oscsend', 'oscdump'].every((tool) => spawnSync('which', [tool]).status === 0);

/**
 * Sends one message with oscsend (`types` as oscsend spells them, e.g. `ifs`): over UDP to a port on
 * 127.0.0.1, or to a liblo URL (`osc.tcp://127.0.0.1:9000`).
 */
export function oscsend(
  to: number | string,
  address: string,
  types = '',
  ...values: (string | number)[]
): Promise<void> {
  const dest = typeof to === 'number' ? ['127.0.0.1', String(to)] : [to];
  return new Promise((resolve, reject) => {
    execFile(
      'oscsend',
      [...dest, address, types, ...values.map(String)],
      { timeout: 5_000 },
      (err, _out, stderr) =>
        err ? reject(new Error(`oscsend failed: ${stderr || err.message}`)) : resolve(),
    );
  });
}

/** A free UDP port on 127.0.0.1 (bound and released; the caller binds it again at once). */
export function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  return new Promise((resolve, reject) => {
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** A free TCP port on 127.0.0.1 (listened on and released; the caller listens on it again at once). */
export function freeTcpPort(): Promise<number> {
  const s = createServer();
  return new Promise((resolve, reject) => {
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** One line oscdump printed: the bundle's timetag (hex `seconds.fraction`, or null), address, types, values. */
export interface DumpLine {
  timetag: string | null;
  address: string;
  types: string;
  values: string[];
  raw: string;
}

export function parseDumpLine(raw: string): DumpLine | undefined {
  const m = /^(?:([0-9a-f]{8}\.[0-9a-f]{8}) )?(\/\S*) ?(\S*)\s*(.*)$/.exec(raw.trim());
  if (m === null) return undefined;
  const values = (m[4] ?? '').match(/"[^"]*"|'\S+|\S+/g) ?? [];
  return { timetag: m[1] ?? null, address: m[2] as string, types: m[3] ?? '', values, raw };
}

/** A running oscdump on a free port, with what it printed. */
export interface Dump {
  port: number;
  lines: DumpLine[];
  /** Resolves with the first line for which `match` is true. */
  waitFor(match: (l: DumpLine) => boolean, ms?: number): Promise<DumpLine>;
  stop(): Promise<void>;
}

/**
 * Starts oscdump and waits until it really receives (it prints no "ready" line: probe it). `tcp`: it
 * listens on `osc.tcp://:port` (and the probe goes over TCP, length-framed).
 */
export async function startDump(protocol: 'udp' | 'tcp' = 'udp'): Promise<Dump> {
  const port = protocol === 'udp' ? await freeUdpPort() : await freeTcpPort();
  const url = protocol === 'udp' ? String(port) : `osc.tcp://:${port}`;
  const to = protocol === 'udp' ? port : `osc.tcp://127.0.0.1:${port}`;
  const proc: ChildProcess = spawn('oscdump', ['-L', url], { stdio: ['ignore', 'pipe', 'pipe'] });
  const dumped = new Sightings<DumpLine>();
  eachLine(proc.stdout, (text) => {
    const line = parseDumpLine(text);
    if (line !== undefined) dumped.add(line);
  });
  const lines = dumped.seen;
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const waitFor = (match: (l: DumpLine) => boolean, ms = 5_000): Promise<DumpLine> =>
    dumped.waitFor(
      match,
      ms,
      () => `oscdump saw no matching line in ${ms} ms: ${JSON.stringify(lines.map((l) => l.raw))}`,
    );
  // Probe until oscdump prints the probe: then it is listening.
  let ready = false;
  const probing = waitFor((l) => l.address === '/probe', 5_000).then(() => {
    ready = true;
  });
  while (!ready) {
    await oscsend(to, '/probe').catch(() => undefined);
    await Promise.race([probing, new Promise((r) => setTimeout(r, 25))]);
  }
  return {
    port,
    lines,
    waitFor,
    stop: async () => {
      proc.kill('SIGTERM');
      await exited;
    },
  };
}
