/**
 * The page's HTTP client: the daemon's REST routes on the page's own origin, the bearer token in the
 * `Authorization` header (never in the URL: README, "Reaching the API from other machines"), and every
 * refusal turned into an {@link ApiError} that says what the API said (`PFM_ERR_…: message`).
 */
import type { ErrorBody } from './types.js';

/** Longest wait for one answer: a poll that hangs must not hide that the daemon stopped answering. */
const TIMEOUT_MS = 4_000;

/** A request the daemon refused, or could not be asked. `status` 0: no answer at all. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** What a person reads: the code and the API's own words. */
  get text(): string {
    return this.code === '' ? this.message : `${this.code}: ${this.message}`;
  }
}

function isErrorBody(v: unknown): v is ErrorBody {
  return typeof v === 'object' && v !== null && typeof (v as ErrorBody).code === 'string';
}

/** The daemon's API as the page calls it. The token is read at each call, so a new one applies at once. */
export class Api {
  constructor(
    private readonly base: string,
    private readonly token: () => string,
  ) {}

  get<T>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }

  /** GET returning the status too (GET /health answers 503 with a body while the daemon is failed). */
  async read<T>(path: string): Promise<{ status: number; body: T }> {
    const res = await this.fetch('GET', path);
    const body = (await res.json().catch(() => null)) as unknown;
    if (res.status === 401 || (res.status >= 400 && res.status !== 503)) throw toError(res.status, body);
    return { status: res.status, body: body as T };
  }

  send<T>(method: 'POST' | 'PUT', path: string, body?: unknown): Promise<T> {
    return this.request<T>(method, path, body);
  }

  private async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.fetch(method, path, body);
    const parsed = (await res.json().catch(() => null)) as unknown;
    if (!res.ok) throw toError(res.status, parsed);
    return parsed as T;
  }

  private async fetch(method: string, path: string, body?: unknown): Promise<Response> {
    const headers: Record<string, string> = {};
    const token = this.token();
    if (token !== '') headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    try {
      return await fetch(`${this.base}${path}`, {
        method,
        headers,
        body: body === undefined ? null : JSON.stringify(body),
        signal: AbortSignal.timeout(TIMEOUT_MS),
        cache: 'no-store',
      });
    } catch (e) {
      const why =
        (e as Error).name === 'TimeoutError' ? `no answer within ${TIMEOUT_MS / 1000} s` : 'no answer';
      throw new ApiError(0, '', `The daemon at ${this.base || location.origin} gives ${why}`);
    }
  }
}

function toError(status: number, body: unknown): ApiError {
  if (isErrorBody(body)) return new ApiError(status, body.code, body.message);
  return new ApiError(status, '', `HTTP ${status}`);
}
