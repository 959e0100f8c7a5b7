/**
 * OSC 1.0 address patterns ("OSC Message Dispatching and Pattern Matching"), matched in time linear in the
 * address length: the pattern is compiled into a small NFA that is run over the address once, keeping the
 * set of live states, so '/*a*a*a*b' cannot backtrack (a RegExp would, polynomially, on a long address).
 */
import { OscConfigError } from '../../daemon/kernel/errors.js';

/** Characters OSC 1.0 reserves: never part of a concrete address. */
const RESERVED = ' #*,?[]{}';
/** 1 for each ASCII code that may appear in a concrete address (printable, not reserved). */
const ADDRESS_CHAR = new Uint8Array(128);
for (let c = 0x21; c < 0x7f; c++) ADDRESS_CHAR[c] = RESERVED.includes(String.fromCharCode(c)) ? 0 : 1;

const SLASH = 0x2f;

/** True when `address` is a concrete OSC address: '/' first, then printable ASCII without ` #*,?[]{}`. */
export function isValidAddress(address: string): boolean {
  if (typeof address !== 'string' || address.charCodeAt(0) !== SLASH) return false;
  for (let i = 1; i < address.length; i++) {
    const c = address.charCodeAt(i);
    if (c >= 128 || ADDRESS_CHAR[c] === 0) return false;
  }
  return true;
}

/** What one NFA state consumes: a literal character; any character but '/' ('?', and each step of
 * '*'); or one of a '[…]' class (a 128-entry table; codes >= 128 match only a negated class). */
const LITERAL = 0;
const ANY_BUT_SLASH = 1;
const CLASS = 2;
type Kind = typeof LITERAL | typeof ANY_BUT_SLASH | typeof CLASS;

/** A parsed pattern element, before it is turned into NFA states. */
type Item =
  | { t: 'lit'; code: number }
  | { t: 'any' }
  | { t: 'star' }
  | { t: 'class'; table: Uint8Array; negated: boolean }
  | { t: 'alt'; options: string[] };

/** The compiled NFA: state i consumes one character, then the live set becomes follow[i]. */
interface Nfa {
  kind: Kind[];
  code: number[];
  table: (Uint8Array | null)[];
  negated: boolean[];
  follow: number[][];
  followAccepts: boolean[];
  start: number[];
  startAccepts: boolean;
}

const malformed = (pattern: string, reason: string): Error =>
  new OscConfigError(`address pattern ${JSON.stringify(pattern.slice(0, 120))} ${reason}`);

/**
 * Compiles an OSC 1.0 address pattern: '?' (one character but '/'), '*' (any run of characters but '/'),
 * '[a-z]' and '[!0-9]' (a character, or not one, of a set; '-' first or last is literal), '{tempo,bpm}'
 * (one of literal strings). The OSC 1.1 '//' wildcard is not supported: '//' matches itself only.
 * '/' inside '[…]' or '{…}' is refused, since neither could ever match across a '/'.
 * @throws OscConfigError for an empty or malformed pattern.
 */
export function compilePattern(pattern: string): (address: string) => boolean {
  if (typeof pattern !== 'string' || pattern.length === 0) throw malformed(String(pattern), 'is empty');
  if (pattern.charCodeAt(0) !== SLASH) throw malformed(pattern, "must start with '/'");
  const items = parse(pattern);
  if (items.every((it) => it.t === 'lit')) return (address) => address === pattern;
  const nfa = build(items);
  return nfa.kind.length <= 31 ? bitRunner(nfa) : runner(nfa);
}

function parse(pattern: string): Item[] {
  const items: Item[] = [];
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    const c = ch.charCodeAt(0);
    if (ch === '*') {
      if (items.at(-1)?.t !== 'star') items.push({ t: 'star' }); // '**' is the same as '*'
    } else if (ch === '?') items.push({ t: 'any' });
    else if (ch === '[') i = parseClass(pattern, i, items);
    else if (ch === '{') i = parseAlternatives(pattern, i, items);
    else if (c < 0x21 || c > 0x7e || ch === '#' || ch === ',' || ch === ']' || ch === '}') {
      throw malformed(
        pattern,
        `has ${JSON.stringify(ch)} at index ${i}, which an address pattern cannot hold here`,
      );
    } else items.push({ t: 'lit', code: c });
  }
  return items;
}

/** Parses '[…]' opening at `open`; returns the index of its ']'. */
function parseClass(pattern: string, open: number, items: Item[]): number {
  const close = pattern.indexOf(']', open + 1);
  if (close < 0) throw malformed(pattern, `has an unclosed '[' at index ${open}`);
  let body = pattern.slice(open + 1, close);
  const negated = body.startsWith('!');
  if (negated) body = body.slice(1);
  if (body.length === 0) throw malformed(pattern, `has an empty '[]' at index ${open}`);
  const table = new Uint8Array(128);
  for (let k = 0; k < body.length; k++) {
    const lo = body.charCodeAt(k);
    let hi = lo;
    if (body[k + 1] === '-' && k + 2 < body.length) {
      hi = body.charCodeAt(k + 2);
      k += 2;
    }
    if (lo < 0x21 || hi > 0x7e || lo === SLASH || hi === SLASH) {
      throw malformed(pattern, `has a '[…]' at index ${open} holding '/' or a non-printable character`);
    }
    if (hi < lo) throw malformed(pattern, `has a reversed range in the '[…]' at index ${open}`);
    table.fill(1, lo, hi + 1);
  }
  if (negated) for (let c = 0; c < 128; c++) table[c] = table[c] ? 0 : 1;
  table[SLASH] = 0; // neither '[!a]' nor '[+-0]' matches '/': no pattern construct crosses a '/'
  items.push({ t: 'class', table, negated });
  return close;
}

/** Parses '{a,b}' opening at `open`; returns the index of its '}'. */
function parseAlternatives(pattern: string, open: number, items: Item[]): number {
  const close = pattern.indexOf('}', open + 1);
  if (close < 0) throw malformed(pattern, `has an unclosed '{' at index ${open}`);
  const options = pattern.slice(open + 1, close).split(',');
  for (const option of options) {
    if (option.length === 0)
      throw malformed(pattern, `has an empty alternative in the '{…}' at index ${open}`);
    for (let k = 0; k < option.length; k++) {
      const c = option.charCodeAt(k);
      if (c >= 128 || ADDRESS_CHAR[c] === 0 || c === SLASH) {
        throw malformed(pattern, `has ${JSON.stringify(option[k])} inside the '{…}' at index ${open}`);
      }
    }
  }
  items.push({ t: 'alt', options });
  return close;
}

/** Builds the NFA from the back: `first` is the set of states live where an item begins. */
function build(items: Item[]): Nfa {
  const nfa: Nfa = {
    kind: [],
    code: [],
    table: [],
    negated: [],
    follow: [],
    followAccepts: [],
    start: [],
    startAccepts: true,
  };
  const add = (kind: Kind, code: number, table: Uint8Array | null, negated: boolean): number => {
    nfa.kind.push(kind);
    nfa.code.push(code);
    nfa.table.push(table);
    nfa.negated.push(negated);
    nfa.follow.push([]);
    nfa.followAccepts.push(false);
    return nfa.kind.length - 1;
  };
  const link = (state: number, next: number[], accepts: boolean): void => {
    nfa.follow[state] = next;
    nfa.followAccepts[state] = accepts;
  };
  let first: number[] = [];
  let accepts = true;
  for (let k = items.length - 1; k >= 0; k--) {
    const it = items[k]!;
    if (it.t === 'star') {
      const s = add(ANY_BUT_SLASH, 0, null, false);
      first = [s, ...first];
      link(s, first, accepts);
    } else if (it.t === 'alt') {
      const heads: number[] = [];
      for (const option of it.options) {
        let next = first;
        let nextAccepts = accepts;
        for (let j = option.length - 1; j >= 0; j--) {
          const s = add(LITERAL, option.charCodeAt(j), null, false);
          link(s, next, nextAccepts);
          next = [s];
          nextAccepts = false;
        }
        heads.push(next[0]!);
      }
      first = heads;
      accepts = false;
    } else {
      const s =
        it.t === 'lit'
          ? add(LITERAL, it.code, null, false)
          : it.t === 'any'
            ? add(ANY_BUT_SLASH, 0, null, false)
            : add(CLASS, 0, it.table, it.negated);
      link(s, first, accepts);
      first = [s];
      accepts = false;
    }
  }
  nfa.start = first;
  nfa.startAccepts = accepts;
  return nfa;
}

/** Whether state `s` consumes character `c` (any code >= 128 stands for all non-ASCII characters). */
function consumes(nfa: Nfa, s: number, c: number): boolean {
  const kind = nfa.kind[s];
  if (kind === LITERAL) return nfa.code[s] === c;
  if (c === SLASH) return false;
  return kind === ANY_BUT_SLASH || (c < 128 ? nfa.table[s]![c] === 1 : nfa.negated[s]!);
}

/**
 * The NFA of a pattern with at most 31 states (nearly all), run on int32 bit sets: per character, one
 * table lookup and one OR per live state that consumes it.
 */
function bitRunner(nfa: Nfa): (address: string) => boolean {
  const n = nfa.kind.length;
  const mask = (states: number[]): number => states.reduce((m, s) => m | (1 << s), 0);
  const followMask = Int32Array.from(nfa.follow, mask);
  let acceptsMask = 0;
  for (let s = 0; s < n; s++) if (nfa.followAccepts[s]) acceptsMask |= 1 << s;
  // consumers[c]: the states that consume code c; index 128 stands for every non-ASCII character.
  const consumers = new Int32Array(129);
  for (let c = 0; c <= 128; c++) for (let s = 0; s < n; s++) if (consumes(nfa, s, c)) consumers[c]! |= 1 << s;
  const startMask = mask(nfa.start);
  return (address: string): boolean => {
    if (typeof address !== 'string') return false;
    let live = startMask;
    let accepted = nfa.startAccepts;
    for (let i = 0; i < address.length; i++) {
      const c = address.charCodeAt(i);
      let m = live & consumers[Math.min(c, 128)]!;
      accepted = (m & acceptsMask) !== 0;
      let next = 0;
      while (m !== 0) {
        const low = m & -m;
        next |= followMask[31 - Math.clz32(low)]!;
        m ^= low;
      }
      if (next === 0 && !accepted) return false;
      live = next;
    }
    return accepted;
  };
}

/** Runs the NFA over an address: one pass, at most (states × follow-set size) work per character. */
function runner(nfa: Nfa): (address: string) => boolean {
  const n = nfa.kind.length;
  // Flat typed arrays: the inner loop reads numbers only.
  const kind = Uint8Array.from(nfa.kind);
  const code = Int32Array.from(nfa.code);
  const negated = Uint8Array.from(nfa.negated, (b) => (b ? 1 : 0));
  const accepts = Uint8Array.from(nfa.followAccepts, (b) => (b ? 1 : 0));
  const tables = new Uint8Array(n * 128);
  for (let s = 0; s < n; s++) if (nfa.table[s]) tables.set(nfa.table[s]!, s * 128);
  const followAt = new Int32Array(n + 1);
  for (let s = 0; s < n; s++) followAt[s + 1] = followAt[s]! + nfa.follow[s]!.length;
  const follow = Int32Array.from(nfa.follow.flat());
  const start = Int32Array.from(nfa.start);
  // Work arrays are reused across calls: matching is synchronous and never re-entered.
  let live = new Int32Array(n);
  let next = new Int32Array(n);
  const mark = new Int32Array(n);
  let stamp = 0;
  return (address: string): boolean => {
    if (typeof address !== 'string') return false;
    live.set(start);
    let liveCount = start.length;
    let accepted = nfa.startAccepts;
    for (let i = 0; i < address.length; i++) {
      const c = address.charCodeAt(i);
      if (++stamp > 0x3fffffff) {
        mark.fill(0);
        stamp = 1;
      }
      let nextCount = 0;
      accepted = false;
      for (let k = 0; k < liveCount; k++) {
        const s = live[k]!;
        const kd = kind[s];
        const ok =
          kd === LITERAL
            ? code[s] === c
            : c !== SLASH &&
              (kd === ANY_BUT_SLASH || (c < 128 ? tables[s * 128 + c] === 1 : negated[s] === 1));
        if (!ok) continue;
        if (accepts[s] === 1) accepted = true;
        for (let f = followAt[s]!, to = followAt[s + 1]!; f < to; f++) {
          const t = follow[f]!;
          if (mark[t] === stamp) continue;
          mark[t] = stamp;
          next[nextCount++] = t;
        }
      }
      if (nextCount === 0 && !accepted) return false;
      const swap = live;
      live = next;
      next = swap;
      liveCount = nextCount;
    }
    return accepted;
  };
}
