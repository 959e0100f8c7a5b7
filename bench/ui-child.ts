/**
 * The dashboards' network load without a browser, for ui.bus_throughput_ratio's side figure: forked
 * with IPC by ui-relay.ts as `node dist/bench/ui-child.js`, it opens `count` /stream sockets to the
 * daemon, parses every frame as the page does, and polls GET /health twice a second and GET /stats
 * once a second per client, as the page does (ui/src/store.ts). What it leaves out is the browser's
 * own work: drawing, layout, and the CPU a renderer process takes from the daemon on a shared machine.
 *
 * Requests are `{ id, cmd, ... }`: `open { url, count }` → `{ open }`, `stats` → `{ frames, bad }`,
 * `close` (every socket and poll, until the next `open`). Replies `{ id, ok, result | error }`. Exits
 * when its parent goes away.
 */
import { WebSocket } from 'ws';

interface Request {
  id: number;
  cmd: string;
  url?: string;
  count?: number;
}

const sockets: WebSocket[] = [];
const timers: NodeJS.Timeout[] = [];
let frames = 0;
let bad = 0;

function openOne(url: string): Promise<void> {
  return new Promise((resolve, reject) => {
    // As the page asks (ui/src/stream.ts, MAX_TYPE_RATE).
    const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/stream?maxTypeRate=100`, ['performia']);
    ws.on('message', (data) => {
      try {
        JSON.parse(String(data));
        frames++;
      } catch {
        bad++;
      }
    });
    ws.once('open', () => {
      sockets.push(ws);
      resolve();
    });
    ws.once('error', reject);
  });
}

let polling = false;

/** GET `url` every `ms`, as the page polls (the answer read and parsed, errors ignored: figures only). */
function poll(url: string, ms: number): void {
  const run = async (): Promise<void> => {
    try {
      await (await fetch(url)).json();
    } catch {
      // A busy daemon answering late or not at all is part of what is measured, not a failure here.
    }
    if (polling) timers.push(setTimeout(run, ms));
  };
  void run();
}

async function handle(req: Request): Promise<unknown> {
  switch (req.cmd) {
    case 'open': {
      const url = req.url as string;
      polling = true;
      for (let i = 0; i < (req.count ?? 1); i++) {
        await openOne(url);
        poll(`${url}/health`, 500);
        poll(`${url}/stats`, 1_000);
      }
      return { open: sockets.length };
    }
    case 'stats':
      return { frames, bad };
    case 'close': {
      polling = false;
      for (const t of timers.splice(0)) clearTimeout(t);
      const closing = sockets.splice(0).map(
        (ws) =>
          new Promise<void>((resolve) => {
            ws.once('close', () => resolve());
            ws.close();
          }),
      );
      await Promise.all(closing);
      return { closed: closing.length };
    }
    default:
      throw new Error(`unknown command ${req.cmd}`);
  }
}

process.on('message', (req: Request) => {
  handle(req).then(
    (result) => process.send?.({ id: req.id, ok: true, result }),
    (err: unknown) => process.send?.({ id: req.id, ok: false, error: (err as Error).message }),
  );
});
process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
