/**
 * OSC timetags (OSC 1.0 spec: NTP format, 32-bit seconds since 1900-01-01 and a 32-bit fraction) ⇄
 * Unix-epoch milliseconds. Pure (no I/O, no timers).
 */
import { OscEncodeError } from '../../daemon/kernel/errors.js';
import type { Timetag } from './types.js';

export const TWO_32 = 4294967296;
/** Seconds from the NTP epoch (1900-01-01) to the Unix epoch (1970-01-01). */
const NTP_UNIX_OFFSET_S = 2208988800;

/** Converts an OSC timetag to Unix-epoch milliseconds (a float). `IMMEDIATELY` gives 0. */
export function timetagToMs(t: Timetag): number {
  if (isImmediate(t)) return 0;
  return (t.seconds - NTP_UNIX_OFFSET_S) * 1000 + (t.fraction * 1000) / TWO_32;
}

/** The timetag for a Unix-epoch time in ms, or null outside NTP era 0 (1900-01-01 to 2036-02-07). */
export function ntpFromMs(ms: number): Timetag | null {
  if (ms === 0) return { seconds: 0, fraction: 1 };
  if (!Number.isFinite(ms)) return null;
  let s = Math.floor(ms / 1000);
  let fraction = Math.round(((ms - s * 1000) * TWO_32) / 1000);
  if (fraction >= TWO_32) {
    s += 1;
    fraction -= TWO_32;
  }
  const seconds = s + NTP_UNIX_OFFSET_S;
  return seconds >= 0 && seconds < TWO_32 ? { seconds, fraction } : null;
}

/**
 * Converts Unix-epoch milliseconds to an OSC timetag (fraction rounded: exact within 1 µs). The inverse of
 * {@link timetagToMs}, so 0 gives `IMMEDIATELY`, not 1970-01-01T00:00:00Z.
 * @throws OscEncodeError when `ms` is not finite or lies outside NTP era 0 (1900-01-01 to 2036-02-07).
 */
export function msToTimetag(ms: number): Timetag {
  const t = ntpFromMs(ms);
  if (t === null) throw new OscEncodeError(`time ${ms} ms is not a finite time in NTP era 0 (1900 to 2036)`);
  return t;
}

/** True for the OSC "immediately" timetag (seconds 0, fraction 1) only; 0/0 is a time in 1900, long past. */
export function isImmediate(t: Timetag): boolean {
  return t.seconds === 0 && t.fraction === 1;
}
