import { afterEach, describe, expect, it } from 'vitest';
import { probeMidiSystem } from '../../adapters/midi/os-ports.js';
import { type DaemonProcess, runCli, spawnDaemon, tempDir, untilReady } from '../helpers/process.js';

const running: DaemonProcess[] = [];
const dirs: { cleanup: () => void }[] = [];
afterEach(async () => {
  for (const d of running.splice(0)) {
    if (d.proc.exitCode === null) {
      d.proc.kill('SIGKILL');
      await d.exited;
    }
  }
  for (const d of dirs.splice(0)) d.cleanup();
});

function start(args: string[] = [], env: Record<string, string> = {}): DaemonProcess {
  const d = spawnDaemon(args, env);
  running.push(d);
  return d;
}

async function ready(d: DaemonProcess): Promise<string> {
  const line = await d.waitFor((l) => typeof l.msg === 'string' && l.msg.startsWith('performia ready'));
  const url = line.api as string;
  await untilReady(url);
  return url;
}

const post = (url: string, body: unknown) =>
  fetch(`${url}/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

interface HealthBody {
  status: string;
  parts: { name: string; state: string; reason?: string }[];
}
/** The default config opens the OS MIDI ports: where there is no MIDI system the daemon is degraded. */
const midiReason = probeMidiSystem();

describe('the daemon as a process', () => {
  it('runs on the embedded default, serves /health, and on SIGTERM drains the bus and exits 0', async () => {
    const d = start();
    const url = await ready(d);
    const health = (await (await fetch(`${url}/health`)).json()) as HealthBody;
    // Without a MIDI system or a sound card (this machine, CI) only the MIDI ports, the audio output and
    // the audio input are degraded, each with its reason; the band plays on (audio on the `none` sink).
    // The input may still be opening (`starting`) on a loaded machine.
    const troubled = health.parts.filter((p) => p.state !== 'ok');
    expect(troubled.map((p) => p.name).filter((n) => !['midi', 'audio', 'listen'].includes(n))).toEqual([]);
    const midi = troubled.find((p) => p.name === 'midi');
    expect(midi?.reason).toBe(midiReason);
    const audio = troubled.find((p) => p.name === 'audio');
    if (audio !== undefined) expect(audio.reason).toMatch(/cannot be opened.*playing on the none sink/);
    const listen = troubled.find((p) => p.name === 'listen');
    if (listen?.state === 'degraded')
      expect(listen.reason).toMatch(/^Audio input default cannot be listened to: /);
    expect(health.status).toBe(troubled.length === 0 ? 'ok' : 'degraded');
    // Publish a burst and signal right after the last answer.
    const answers = await Promise.all(
      Array.from({ length: 300 }, (_, i) => post(url, { type: 'note_like', payload: i })),
    );
    expect(answers.every((r) => r.status === 202)).toBe(true);
    d.proc.kill('SIGTERM');
    expect(await d.exited).toBe(0);
    const drained = d.lines.find((l) => l.msg === 'bus drained') as Record<string, number>;
    expect(drained).toBeDefined();
    // The 300 plus what the band played meanwhile (it runs on the embedded default): all delivered.
    expect(drained.published).toBeGreaterThanOrEqual(300);
    expect(drained.delivered).toBe(drained.published);
    expect(drained.discarded).toBe(0);
    expect(d.lines.some((l) => l.msg === 'performia stopped')).toBe(true);
    // stdout held JSON log lines only (journald): the audio stack's own prints stayed out of it.
    expect(d.lines.filter((l) => 'nonJson' in l)).toEqual([]);
  });

  it('reloads on SIGHUP; a broken new file is refused and the old config keeps running', async () => {
    const t = tempDir();
    dirs.push(t);
    const file = t.file('config.yaml', 'log:\n  level: info\n  pretty: never\nbus:\n  maxQueueSize: 5000\n');
    const d = start(['--config', file]);
    const url = await ready(d);
    const level = async () =>
      ((await (await fetch(`${url}/config`)).json()) as { log: { level: string } }).log.level;
    expect(await level()).toBe('info');

    t.file('config.yaml', 'log:\n  level: loud\napi: [not, a, mapping\n');
    d.proc.kill('SIGHUP');
    const refused = await d.waitFor((l) => l.msg === 'config reload refused: the running config stays');
    expect(String(refused.code)).toMatch(/^PFM_ERR_CONFIG_/);
    expect(await level()).toBe('info');
    // Serving (ok, or degraded by a missing MIDI system or sound card as on this machine).
    expect(((await (await fetch(`${url}/health`)).json()) as { status: string }).status).toMatch(
      /^(ok|degraded)$/,
    );

    t.file('config.yaml', 'log:\n  level: debug\n  pretty: never\nbus:\n  maxQueueSize: 6000\n');
    d.proc.kill('SIGHUP');
    const reloaded = await d.waitFor((l) => l.msg === 'config reloaded');
    expect(reloaded.changed).toEqual(expect.arrayContaining(['log.level', 'bus.maxQueueSize']));
    expect(reloaded.restartNeeded).toEqual(['bus.maxQueueSize']);
    expect(await level()).toBe('debug');
    d.proc.kill('SIGTERM');
    expect(await d.exited).toBe(0);
  });

  it('stops before opening anything when the config is invalid, naming the key', async () => {
    const d = start([], { PERFORMIA_API_PORT: 'abc' });
    expect(await d.exited).toBe(2);
    expect(d.stderr()).toContain('api.port (from PERFORMIA_API_PORT): expected integer 0..65535, got "abc"');
    expect(d.lines.some((l) => String(l.msg).includes('ready'))).toBe(false);
  });

  it('refuses to bind beyond loopback without a token', async () => {
    const d = start([], { PERFORMIA_API_HOST: '0.0.0.0' });
    expect(await d.exited).toBe(1);
    expect(d.lines.some((l) => l.code === 'PFM_ERR_API_INSECURE_BIND')).toBe(true);
  });
});

describe('the CLI', () => {
  it('check-config prints the effective config of a good file, and every problem of a bad one', async () => {
    const t = tempDir();
    dirs.push(t);
    const good = t.file('good.yaml', 'api:\n  port: 7171\n  token: hush\n');
    const ok = await runCli(['check-config', good]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/port: 7171/);
    expect(ok.stdout).toMatch(/maxQueueSize: 100000/);
    expect(ok.stdout).not.toContain('hush');
    const bad = t.file('bad.yaml', 'api:\n  port: "abc"\n  prot: 1\nlog:\n  level: loud\n');
    const ko = await runCli(['check-config', bad]);
    expect(ko.code).toBe(1);
    expect(ko.stderr).toContain('3 problem(s)');
    expect(ko.stderr).toContain('api.port: expected integer 0..65535, got "abc"');
    expect(ko.stderr).toContain('api.prot: unknown key');
    expect(ko.stderr).toContain('log.level');
    const missing = await runCli(['check-config', `${t.dir}/nope.yaml`]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('file not found');
  });

  it('sends, monitors and reads stats through a running daemon', async () => {
    const d = start();
    const url = await ready(d);
    const env = { PERFORMIA_API_URL: url };
    // monitor runs until the daemon closes the stream
    const monitor = runCli(['monitor', '--type', 'tempo_change'], env);
    await new Promise((r) => setTimeout(r, 300));
    const sent = await runCli(['send', 'tempo_change', '--payload', '{"bpm":132}'], env);
    expect(sent.code).toBe(0);
    expect(sent.stdout).toMatch(/^published #\d+ tempo_change \(priority 1\)/);
    const bad = await runCli(['send', 'tempo_change', '--payload', '{"bpm":"fast"}'], env);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('PFM_ERR_API_BAD_REQUEST');
    const stats = await runCli(['stats'], env);
    expect(stats.code).toBe(0);
    expect(stats.stdout).toMatch(/published\s+\d+/);
    expect(stats.stdout).toMatch(/handlerErrors\s+0/);
    const ports = await runCli(['ports'], env);
    expect(ports.code).toBe(0);
    expect(ports.stdout).toMatch(/network MIDI: bound on 127\.0\.0\.1:\d+ \(data \d+\)/);
    expect(ports.stdout).toMatch(/virtual\s+in\s+/);
    if (midiReason !== undefined) expect(ports.stdout).toContain(midiReason);
    d.proc.kill('SIGTERM');
    const mon = await monitor;
    expect(mon.stdout).toMatch(/HIGH\s+tempo_change api->broadcast \{"bpm":132\}/);
    expect(await d.exited).toBe(0);
  });

  it('explains itself with --help, and refuses unknown commands', async () => {
    for (const cmd of ['start', 'check-config', 'send', 'monitor', 'stats', 'ports']) {
      const r = await runCli([cmd, '--help']);
      expect(r.code, cmd).toBe(0);
      expect(r.stdout, cmd).toContain(`usage: performia ${cmd}`);
    }
    const unknown = await runCli(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command "frobnicate"');
    const down = await runCli(['stats'], { PERFORMIA_API_URL: 'http://127.0.0.1:9' });
    expect(down.code).toBe(1);
    expect(down.stderr).toContain('PFM_ERR_CLI_REQUEST');
    // Without a daemon, `ports` lists what the OS offers itself (or why nothing).
    const alone = await runCli(['ports'], { PERFORMIA_API_URL: 'http://127.0.0.1:9' });
    expect(alone.code).toBe(0);
    expect(alone.stdout).toContain('the daemon is not running');
    if (midiReason !== undefined) expect(alone.stdout).toContain(midiReason);
  });
});
