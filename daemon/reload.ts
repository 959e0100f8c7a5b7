/** Helpers of the config reload (SIGHUP) and of the bind check. */
import { isIP } from 'node:net';

/** True for an address only this machine can reach. */
export function isLoopback(host: string): boolean {
  if (host === 'localhost' || host === '::1' || host === '[::1]') return true;
  return isIP(host) === 4 && host.startsWith('127.');
}

/** Dotted paths of the leaves that differ between two configs (arrays compare whole). */
export function changedKeys(a: unknown, b: unknown, prefix = ''): string[] {
  const isObj = (v: unknown): v is Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isObj(a) || !isObj(b)) return JSON.stringify(a) === JSON.stringify(b) ? [] : [prefix];
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].flatMap((k) => changedKeys(a[k], b[k], prefix === '' ? k : `${prefix}.${k}`));
}
