/**
 * The CLI's client side: requests to the control API and the WebSocket stream.
 */
import WebSocket from 'ws';
import { PRIORITY_NAMES } from './bus/index.js';
import { CliRequestError } from './kernel/errors.js';

/** Where the API is and how to authenticate. */
export interface Target {
  url: string;
  token: string;
}

/** One request; resolves to the JSON answer, rejects with PFM_ERR_CLI_REQUEST naming the cause. */
export async function request(
  target: Target,
  method: string,
  path: string,
  body?: unknown,
): Promise<unknown> {
  const url = new URL(path, target.url).toString();
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (target.token !== '') headers.authorization = `Bearer ${target.token}`;
  let res: Response;
  try {
    res = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (e) {
    const cause = (e as { cause?: { code?: string } }).cause;
    const reason =
      cause?.code === 'ECONNREFUSED'
        ? 'connection refused: is the daemon running, and on this port?'
        : (e as Error).message;
    throw new CliRequestError(url, reason, { cause: e });
  }
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  if (!res.ok) {
    const e = json as { code?: string; message?: string };
    throw new CliRequestError(url, `${res.status} ${e.code ?? ''} ${e.message ?? text}`.trim());
  }
  return json;
}

/** Formats one streamed message as a line. */
export function formatLine(m: {
  timestamp: number;
  priority: number;
  type: string;
  from: string;
  to: string;
  payload: unknown;
}): string {
  const t = new Date(m.timestamp).toISOString().slice(11, 23);
  return `${t} ${(PRIORITY_NAMES[m.priority] ?? '?').padEnd(8)} ${m.type} ${m.from}->${m.to} ${JSON.stringify(m.payload)}`;
}

/** Close codes with which the server refuses or breaks off a stream. */
const REFUSED = new Set([1008, 1011, 1013]);

/** Follows /stream, printing each message, until the server closes or SIGINT. */
export function streamMessages(
  target: Target,
  query: URLSearchParams,
  print: (line: string) => void,
  signal?: AbortSignal,
): Promise<void> {
  const url = new URL(`/stream?${query.toString()}`, target.url);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return new Promise((resolve, reject) => {
    // The token in the upgrade's Authorization header, as for every request (api.tokenForReads).
    const headers: Record<string, string> =
      target.token === '' ? {} : { authorization: `Bearer ${target.token}` };
    const ws = new WebSocket(url, { headers });
    let stopping = false;
    const stop = (): void => {
      stopping = true;
      ws.close();
    };
    process.once('SIGINT', stop);
    signal?.addEventListener('abort', stop, { once: true });
    ws.on('message', (data) => {
      try {
        print(formatLine(JSON.parse(String(data))));
      } catch {
        print(String(data));
      }
    });
    ws.on('unexpected-response', (_req, res) => {
      reject(new CliRequestError(url.toString(), `${res.statusCode} ${res.statusMessage ?? ''}`.trim()));
    });
    ws.on('error', (e) => reject(new CliRequestError(url.toString(), e.message, { cause: e })));
    ws.on('close', (code, reason) => {
      process.off('SIGINT', stop);
      // The server refused the stream (1008 policy, 1011 error, 1013 too many clients, RFC 6455 §7.4.1):
      // say why, and fail. A daemon that stops just ends it.
      if (!stopping && REFUSED.has(code)) {
        const why = reason.toString() || `closed with code ${code}`;
        reject(new CliRequestError(url.toString(), `the stream was closed: ${why}`));
        return;
      }
      resolve();
    });
  });
}
