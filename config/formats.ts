/**
 * String formats of the config schema. Each one has its check and the plain words a problem shows
 * (`osc.allow[1]: expected an IPv4 or IPv6 address or CIDR block, got "10.0.0.0/33"`). The checks are
 * registered with TypeBox's format registry too, so `Value.Check` (the final word in load.ts) agrees
 * with our own walk (problems.ts).
 */
import { isIP } from 'node:net';
import Format from 'typebox/format';

/** A named string format: the check, and what it expects in plain words. */
export interface StringFormat {
  readonly check: (text: string) => boolean;
  /** Completes "expected …". */
  readonly expected: string;
}

/**
 * OSC 1.0: an address (or address pattern) starts with `/` and holds no whitespace. Commas are not
 * refused: a pattern's `{drum,perc}` lists alternatives. The adapter's pattern compiler checks the rest.
 */
const OSC_ADDRESS = /^\/\S*$/;
/** A bus message type name (issue #4): what `publish` and the stream's `?type=` filter take. */
const MESSAGE_TYPE = /^[A-Za-z0-9_.:/-]+$/;
/** A payload field, dotted for a nested one: `bpm`, `note.value`. */
const PAYLOAD_PATH = /^[^.\s]+(\.[^.\s]+)*$/;

/**
 * An IPv4 or IPv6 address, alone (one host: /32 or /128) or with a prefix length (`10.0.0.0/8`,
 * `fd00::/8`). Host bits after the prefix are allowed (`10.1.2.3/8` means `10.0.0.0/8`). A zone index
 * (`fe80::1%eth0`) is refused: it names an interface, not a block of sources.
 */
export function isCidr(text: string): boolean {
  const slash = text.indexOf('/');
  const address = slash < 0 ? text : text.slice(0, slash);
  if (address.includes('%')) return false;
  const family = isIP(address);
  if (family === 0) return false;
  if (slash < 0) return true;
  const bits = text.slice(slash + 1);
  return /^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128);
}

/** The formats, by the name a schema gives in `format`. */
export const STRING_FORMATS: Readonly<Record<string, StringFormat>> = Object.freeze({
  cidr: { check: isCidr, expected: 'an IPv4 or IPv6 address or CIDR block' },
  'osc-address': {
    check: (text: string) => OSC_ADDRESS.test(text),
    expected: 'an OSC address starting with / (no spaces)',
  },
  'message-type': {
    check: (text: string) => MESSAGE_TYPE.test(text),
    expected: 'a message type name (letters, digits and _ . : / -)',
  },
  'payload-path': {
    check: (text: string) => PAYLOAD_PATH.test(text),
    expected: 'a payload field name, dotted for a nested field (e.g. bpm or note.value)',
  },
});

for (const [name, format] of Object.entries(STRING_FORMATS)) Format.Set(name, format.check);
