/**
 * Who may call what on the control API (issue #10, "The API under abuse"): the bearer token a request
 * carries, which routes need it, and the WebSocket subprotocol that carries it from a browser.
 *
 * Where a token may travel, and where not:
 * - `Authorization: Bearer <token>` (RFC 6750 §2.1), the scheme matched case-insensitively
 *   (RFC 7235 §2.1: "bearer", "BEARER" and "Bearer" are one scheme; some clients send lower case).
 * - On a WebSocket upgrade, also as the subprotocol `performia.bearer.<base64url(token)>` beside the
 *   plain `performia` subprotocol: a browser's `new WebSocket(url, protocols)` cannot set headers, and
 *   `Sec-WebSocket-Protocol` is the one header it lets a page fill (Kubernetes carries its bearer token
 *   the same way). base64url because a subprotocol must be an RFC 7230 token, and tokens made with
 *   `openssl rand -base64` hold `/`, `+` and `=`.
 * - Never in the URL query: URLs are written to access logs, proxy logs, browser history and the
 *   daemon's own debug log line of every request, where a header is not.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';

/** The subprotocol a stream client offers beside its token; the server selects it. */
export const STREAM_PROTOCOL = 'performia';
/** Prefix of the subprotocol that carries the token (base64url, no padding) on a WebSocket upgrade. */
export const TOKEN_PROTOCOL_PREFIX = 'performia.bearer.';

/** Methods that change something: they need the token whenever one is set. */
const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Routes that stay open when `api.tokenForReads` is on. `/health` is the liveness check a load
 * balancer, a monitor or a systemd timer polls without a token: it then answers with its status only
 * (see {@link mayReadAll}), its HTTP status unchanged. `/docs` describes the API's routes, which are
 * the same on every install, not this setup, and so do the dashboard's static files under `/ui`
 * (issue #12): a browser loading a page cannot send a header, and the page then asks for the token
 * and sends it with every request it makes. Everything else, including routes added later and unknown
 * URLs, needs the token: the stream shows the whole bus, `/config` the whole setup, `/stats`,
 * `/metrics`, `/agents`, `/adapters` and `/midi/ports` the parts, their addresses, ports and devices.
 */
/**
 * The dashboard's routes exactly (daemon/api/ui.ts: the redirect, the index, the static files), so a
 * route registered under /ui later is not open by accident; and /docs.
 */
const OPEN_ROUTES: ReadonlySet<string> = new Set(['/docs', '/ui', '/ui/', '/ui/*']);

function isOpenRead(route: string | undefined): boolean {
  // The matched route's pattern, not the raw URL: `/docs/../config` never matches a /docs route.
  if (route === undefined) return false;
  return route === '/health' || OPEN_ROUTES.has(route) || route.startsWith('/docs/');
}

/** What the auth checks read; functions, so a reloaded token applies at once. */
export interface AuthSource {
  /** The token ('' = none: nothing needs one). */
  token(): string;
  /** `api.tokenForReads`. */
  tokenForReads(): boolean;
}

const digest = (text: string): Buffer => createHash('sha256').update(text).digest();

/** Constant-time comparison; hashing first keeps the token's length from showing in the timing too. */
function same(given: string, token: string): boolean {
  return timingSafeEqual(digest(given), digest(token));
}

/** The token of an `Authorization` header with the Bearer scheme (any case), else undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  // RFC 7235 §2.1: credentials = auth-scheme [ 1*SP ( token68 / #auth-param ) ].
  const m = header === undefined ? null : /^bearer +/i.exec(header);
  return m === null || header === undefined ? undefined : header.slice(m[0].length);
}

/** The tokens offered as `performia.bearer.<base64url>` subprotocols of a WebSocket upgrade. */
function protocolTokens(header: string | string[] | undefined): string[] {
  if (header === undefined) return [];
  const offered = (Array.isArray(header) ? header.join(',') : header).split(',').map((p) => p.trim());
  return offered
    .filter((p) => p.startsWith(TOKEN_PROTOCOL_PREFIX))
    .map((p) => Buffer.from(p.slice(TOKEN_PROTOCOL_PREFIX.length), 'base64url').toString('utf8'));
}

const isUpgrade = (req: FastifyRequest): boolean => req.headers.upgrade?.toLowerCase() === 'websocket';

/** True when the request carries `token` in a place it may travel (see the module comment). */
export function carriesToken(req: FastifyRequest, token: string): boolean {
  const given = bearerToken(req.headers.authorization);
  if (given !== undefined && same(given, token)) return true;
  if (!isUpgrade(req)) return false;
  return protocolTokens(req.headers['sec-websocket-protocol']).some((t) => same(t, token));
}

/** True when the request needs the token: a mutating route, or (with `tokenForReads`) a guarded read. */
export function needsToken(req: FastifyRequest, source: AuthSource): boolean {
  if (source.token() === '') return false;
  if (MUTATING.has(req.method)) return true;
  return source.tokenForReads() && !isOpenRead(req.routeOptions.url);
}

/**
 * True when the request may read everything an open route can show (`/health` in full): no token is
 * needed for reads, or the request carries it.
 */
export function mayReadAll(req: FastifyRequest, source: AuthSource): boolean {
  const token = source.token();
  return token === '' || !source.tokenForReads() || carriesToken(req, token);
}

/**
 * ws's `handleProtocols`: selects `performia` when offered, never a token-bearing subprotocol (that would
 * echo the token in the response, into whatever logs response headers). Offered only a token, the
 * server selects none, and a browser then fails the handshake: offer `performia` beside it.
 */
export function selectProtocol(protocols: Set<string>): string | false {
  if (protocols.has(STREAM_PROTOCOL)) return STREAM_PROTOCOL;
  for (const p of protocols) if (!p.startsWith(TOKEN_PROTOCOL_PREFIX)) return p;
  return false;
}
