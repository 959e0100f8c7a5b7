/**
 * liblo's command-line tools as the independent outside OSC peer (Debian package liblo-tools, installed
 * by .ci/run): `oscsend` sends one message, `oscdump` prints every message it receives.
 */
import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';

/** True when both tools are installed. */
export const libloAvailable = ['oscsend', 'oscdump'].every((tool) => spawnSync('which', [tool]).status === 0);

/** Sends one message with oscsend (`types` as oscsend spells them, e.g. `ifs`). */
export function oscsend(
  port: number,
  address: string,
  types = '',
  ...values: (string | number)[]
): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(
      'oscsend',
      ['127.0.0.1', String(port), address, types, ...values.map(String)],
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

/** Starts oscdump and waits until it really receives (it prints no "ready" line: probe it). */
export async function startDump(): Promise<Dump> {
  const port = await freeUdpPort();
  const proc: ChildProcess = spawn('oscdump', ['-L', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: DumpLine[] = [];
  const waiters: { match: (l: DumpLine) => boolean; resolve: (l: DumpLine) => void }[] = [];
  let buffer = '';
  proc.stdout?.on('data', (chunk) => {
    buffer += String(chunk);
    let nl = buffer.indexOf('\n');
    while (nl >= 0) {
      const line = parseDumpLine(buffer.slice(0, nl));
      buffer = buffer.slice(nl + 1);
      nl = buffer.indexOf('\n');
      if (line === undefined) continue;
      lines.push(line);
      for (const w of [...waiters]) {
        if (w.match(line)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    }
  });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const waitFor = (match: (l: DumpLine) => boolean, ms = 5_000): Promise<DumpLine> => {
    const seen = lines.find(match);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(`oscdump saw no matching line in ${ms} ms: ${JSON.stringify(lines.map((l) => l.raw))}`),
          ),
        ms,
      );
      waiters.push({
        match,
        resolve: (l) => {
          clearTimeout(timer);
          resolve(l);
        },
      });
    });
  };
  // Probe until oscdump prints the probe: then it is listening.
  let ready = false;
  const probing = waitFor((l) => l.address === '/probe', 5_000).then(() => {
    ready = true;
  });
  while (!ready) {
    await oscsend(port, '/probe').catch(() => undefined);
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
