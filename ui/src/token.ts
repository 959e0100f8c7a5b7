/**
 * The API token, kept for this browser tab's session only (issue #12): in sessionStorage, which the
 * browser clears when the tab closes. Never in localStorage (it outlives the session), never in the URL
 * (history, logs), never in a cookie (sent with every request, readable by proxies).
 */

const KEY = 'performia.token';
/** Where the token lives when the browser refuses storage (a privacy mode): this page's life only. */
let memory = '';

/** The token kept for this session, or ''. */
export function loadToken(): string {
  try {
    return sessionStorage.getItem(KEY) ?? '';
  } catch {
    // Storage refused (a privacy mode): the token then lives in memory only, see saveToken.
    return memory;
  }
}

/** Keeps `token` for this session ('' forgets it). */
export function saveToken(token: string): void {
  memory = token;
  try {
    if (token === '') sessionStorage.removeItem(KEY);
    else sessionStorage.setItem(KEY, token);
  } catch {
    // Storage refused: `memory` holds it until the page closes, which is what the session means here.
  }
}

/**
 * The WebSocket subprotocols that carry the token (daemon/api/auth.ts): `performia`, which the server
 * selects, and `performia.bearer.<base64url of the token>`; a browser cannot set a header on a WebSocket.
 */
export function streamProtocols(token: string): string[] {
  if (token === '') return ['performia'];
  const bytes = new TextEncoder().encode(token);
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  const b64url = btoa(binary).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');
  return ['performia', `performia.bearer.${b64url}`];
}
