/**
 * The RTP-MIDI recovery journal (RFC 6295 §4-5, Appendix A), limited to what keeps notes from sticking
 * and controllers right after a lost packet. Pure: no sockets, no timers.
 *
 * Implemented, both ways: the journal header (S Y A H TOTCHAN, checkpoint seqnum, §5), channel journal
 * headers (S CHAN H LENGTH, TOC P C M W N E T A, §5.2; LENGTH counts its own header, A.1), chapter N
 * (A.6: B LEN LOW HIGH, note logs S NOTENUM Y VELOCITY, OFFBITS; LEN=127 LOW=15 HIGH=0 means 128 logs)
 * and chapter C (A.3: S LEN, logs S NUMBER A VALUE/ALT). Decoding skips the rest by size: the system
 * journal by its LENGTH (kept raw), chapters P and W (fixed), M (its LENGTH), E T A (to the channel end).
 * `JournalState` is the sender's checkpoint history, trimmed by AppleMIDI RS feedback; `recoveryCommands`
 * the receiver's repair after a sequence gap, with `ReceiverNotes` its view of held notes and controllers.
 *
 * Not implemented: system chapters (D V Q F X); chapters P M W E T A (skipped, never written); chapter C's
 * toggle and count tools (A=1 logs decoded, not acted on); controllers 6 38 96-101 (chapter M's) and
 * 120-127 (their all-notes-off becomes OFFBITS instead); enhanced chapter C (H); the S-bit shortcut for
 * single losses: every S and B bit is written 0 and every element is read, always correct (A.1).
 *
 * Chapter N semantics follow the journals of Apple's MIDI Network Driver kept in laenzlinger/go-midi-rtp
 * (rtp/rtp_test.go) and the RFC author's receiver (sfront nsys, net_jrecv.c): a note log says the note's
 * last command in the checkpoint history was a NoteOn, an OFFBITS bit a NoteOff (logs go first: both = off).
 */
import { MidiDecodeError, MidiEncodeError } from '../../../daemon/kernel/errors.js';

/** A chapter N note log: the last command for `note` was a NoteOn. `play` is Y: replay if missed. */
export type NoteLog = { note: number; velocity: number; play: boolean; s?: boolean };

/** Chapter N: NoteOn logs, and in `off` (ascending) the notes whose OFFBITS bit says NoteOff. */
export type ChapterN = { logs: NoteLog[]; off: number[]; b?: boolean };

/** A chapter C log. With `alt` (A=1) `value` is the raw 7-bit T|ALT field of the toggle/count tools. */
export type ControllerLog = { controller: number; value: number; alt?: boolean; s?: boolean };

/**
 * One channel's journal; `channel` is the wire channel 0..15. `skipped` (decoding only) lists the
 * chapters present but not modelled, e.g. "PW".
 */
export interface ChannelJournal {
  channel: number;
  controllers?: ControllerLog[];
  notes?: ChapterN;
  skipped?: string;
  s?: boolean;
  h?: boolean;
}

/** A recovery journal (RFC 6295 §5). */
export interface RecoveryJournal {
  /** The 16-bit sequence number of the checkpoint packet, the first packet the journal covers. */
  checkpoint: number;
  channels: ChannelJournal[];
  system?: Uint8Array; // as it came, header included; written back verbatim
  s?: boolean;
  h?: boolean;
}

const fail = (reason: string): Error => new MidiDecodeError(reason);
const TOC = { P: 0x80, C: 0x40, M: 0x20, W: 0x10, N: 0x08, E: 0x04, T: 0x02, A: 0x01 } as const;

/** Fails unless `n` bytes from `pos` fit before `end`. */
function need(pos: number, n: number, end: number, what: string): void {
  if (pos + n > end) throw fail(`${what} at offset ${pos} needs ${n} bytes but only ${end - pos} remain`);
}

/**
 * Decodes the journal in bytes[start, end) (offsets in reasons are those of `bytes`).
 * @throws MidiDecodeError for a LENGTH past the end, a chapter past its channel journal, trailing bytes.
 */
export function decodeJournal(bytes: Uint8Array, start = 0, end = bytes.length): RecoveryJournal {
  need(start, 3, end, 'recovery journal header');
  const h = bytes[start]!;
  const checkpoint = (bytes[start + 1]! << 8) | bytes[start + 2]!;
  const journal: RecoveryJournal = { checkpoint, channels: [], s: (h & 0x80) !== 0, h: (h & 0x10) !== 0 };
  let pos = start + 3;
  if (h & 0x40) {
    need(pos, 2, end, 'system journal header');
    const length = ((bytes[pos]! & 0x03) << 8) | bytes[pos + 1]!;
    if (length < 2) throw fail(`system journal at offset ${pos} has LENGTH ${length}, less than its header`);
    need(pos, length, end, `system journal of LENGTH ${length}`);
    journal.system = bytes.slice(pos, pos + length);
    pos += length;
  }
  if (h & 0x20) {
    for (let k = 0; k <= (h & 0x0f); k++) pos = decodeChannel(bytes, pos, end, journal.channels);
  }
  if (pos !== end) throw fail(`${end - pos} unexpected bytes at offset ${pos} after the recovery journal`);
  return journal;
}

function decodeChannel(b: Uint8Array, start: number, end: number, out: ChannelJournal[]): number {
  need(start, 3, end, 'channel journal header');
  const channel = (b[start]! >> 3) & 0x0f;
  const length = ((b[start]! & 0x03) << 8) | b[start + 1]!;
  const what = `channel journal for channel ${channel}`;
  if (length < 3) throw fail(`${what} at offset ${start} has LENGTH ${length}, less than its header`);
  need(start, length, end, `${what} (LENGTH ${length})`);
  const cend = start + length;
  const toc = b[start + 2]!;
  const cj: ChannelJournal = { channel, s: (b[start]! & 0x80) !== 0, h: (b[start]! & 0x04) !== 0 };
  let skipped = '';
  let pos = start + 3;
  const skip = (chapter: string, size: number): void => {
    need(pos, size, cend, `chapter ${chapter} of ${what}${chapter === 'M' ? ` (LENGTH ${size})` : ''}`);
    pos += size;
    skipped += chapter;
  };
  // Chapters come in TOC order (§5.2); P and W have fixed sizes, M says its own (A.2, A.4, A.5).
  if (toc & TOC.P) skip('P', 3);
  if (toc & TOC.C) pos = decodeChapterC(b, pos, cend, cj, what);
  if (toc & TOC.M) {
    need(pos, 2, cend, `chapter M of ${what}`);
    const mlen = ((b[pos]! & 0x03) << 8) | b[pos + 1]!;
    if (mlen < 2) throw fail(`chapter M at offset ${pos} has LENGTH ${mlen}, less than its header`);
    skip('M', mlen);
  }
  if (toc & TOC.W) skip('W', 2);
  if (toc & TOC.N) pos = decodeChapterN(b, pos, cend, cj, what);
  if (toc & (TOC.E | TOC.T | TOC.A)) {
    // E, T and A close the channel journal: its LENGTH says where they end.
    if (pos === cend) throw fail(`${what} at offset ${start} lists chapters E/T/A but has no bytes for them`);
    skipped += ['E', 'T', 'A'].filter((c) => toc & TOC[c as 'E' | 'T' | 'A']).join('');
    pos = cend;
  }
  if (pos !== cend) throw fail(`${cend - pos} unexpected bytes at offset ${pos} in ${what}`);
  if (skipped) cj.skipped = skipped;
  out.push(cj);
  return cend;
}

function decodeChapterC(b: Uint8Array, pos: number, end: number, cj: ChannelJournal, what: string): number {
  need(pos, 1, end, `chapter C of ${what}`);
  const count = (b[pos]! & 0x7f) + 1; // LEN codes count - 1 (A.3)
  need(pos, 1 + 2 * count, end, `chapter C of ${what} with ${count} logs`);
  cj.controllers = [];
  for (let k = 0, p = pos + 1; k < count; k++, p += 2) {
    const [n, v] = [b[p]!, b[p + 1]!];
    cj.controllers.push({ controller: n & 0x7f, value: v & 0x7f, alt: v >= 0x80, s: n >= 0x80 });
  }
  return pos + 1 + 2 * count;
}

function decodeChapterN(b: Uint8Array, pos: number, end: number, cj: ChannelJournal, what: string): number {
  need(pos, 2, end, `chapter N of ${what}`);
  const low = b[pos + 1]! >> 4;
  const high = b[pos + 1]! & 0x0f;
  let count = b[pos]! & 0x7f;
  if (count === 127 && low === 15 && high === 0) count = 128; // A.6: the one way to say 128 logs
  const bitfield = low <= high ? high - low + 1 : 0;
  need(pos, 2 + 2 * count + bitfield, end, `chapter N of ${what} with ${count} logs`);
  const notes: ChapterN = { logs: [], off: [], b: b[pos]! >= 0x80 };
  let p = pos + 2;
  for (let k = 0; k < count; k++, p += 2) {
    const v = b[p + 1]!;
    notes.logs.push({ note: b[p]! & 0x7f, velocity: v & 0x7f, play: v >= 0x80, s: b[p]! >= 0x80 });
  }
  for (let octet = low; octet < low + bitfield; octet++, p++) {
    for (let bit = 0; bit < 8; bit++) if (b[p]! & (0x80 >> bit)) notes.off.push(octet * 8 + bit);
  }
  cj.notes = notes;
  return p;
}

const encodeFail = (reason: string): Error => new MidiEncodeError(reason);

function int7(what: string, v: unknown, min = 0, max = 127): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw encodeFail(`${what} must be an integer in ${min}..${max}, not ${String(v)}`);
  }
  return v;
}

/** Sorts `values` and fails if one is there twice. */
function unique(what: string, values: number[]): number[] {
  values.sort((x, y) => x - y);
  for (let k = 1; k < values.length; k++) {
    if (values[k] === values[k - 1]) throw encodeFail(`${what} ${values[k]} is listed twice`);
  }
  return values;
}

function encodeChapterC(logs: readonly ControllerLog[], out: number[]): void {
  if (logs.length < 1 || logs.length > 128) throw encodeFail(`chapter C has 1..128 logs, not ${logs.length}`);
  const numbers = logs.map((l) => int7('controller number', l.controller));
  unique('controller', numbers);
  out.push(logs.length - 1);
  for (const l of logs) {
    out.push((l.s ? 0x80 : 0) | l.controller, (l.alt ? 0x80 : 0) | int7('controller value', l.value));
  }
}

function encodeChapterN(n: ChapterN, out: number[]): void {
  const { logs, off } = n;
  if (logs.length > 128) throw encodeFail(`chapter N has at most 128 note logs, not ${logs.length}`);
  const notes = logs.map((l) => int7('note number', l.note));
  unique('note log for note', notes);
  const offs = off.map((note) => int7('OFFBITS note', note));
  unique('OFFBITS note', offs);
  if (logs.length === 128 && offs.length > 0) throw encodeFail('128 note logs leave no room for OFFBITS');
  // No OFFBITS: LOW=15 HIGH=1 as macOS writes (HIGH=0 would mean 128 logs when LEN is 127, A.6).
  const [low, high] =
    offs.length === 0 ? [15, logs.length === 128 ? 0 : 1] : [offs[0]! >> 3, offs.at(-1)! >> 3];
  out.push((n.b ? 0x80 : 0) | (logs.length === 128 ? 127 : logs.length), (low << 4) | high);
  for (const l of logs) {
    out.push((l.s ? 0x80 : 0) | l.note, (l.play ? 0x80 : 0) | int7('note log velocity', l.velocity, 1));
  }
  if (offs.length === 0) return;
  const bits = new Array<number>(high - low + 1).fill(0);
  for (const note of offs) bits[(note >> 3) - low]! |= 0x80 >> (note & 7);
  out.push(...bits);
}

function encodeChannel(cj: ChannelJournal, out: number[]): void {
  const channel = int7('channel journal channel', cj.channel, 0, 15);
  const body: number[] = [];
  const { controllers: c, notes: n } = cj;
  const toc = (c?.length ? TOC.C : 0) | (n && n.logs.length + n.off.length > 0 ? TOC.N : 0);
  if (toc & TOC.C) encodeChapterC(c!, body);
  if (toc & TOC.N) encodeChapterN(n!, body);
  const length = 3 + body.length;
  out.push((cj.s ? 0x80 : 0) | (channel << 3) | (cj.h ? 0x04 : 0) | (length >> 8), length & 0xff, toc);
  out.push(...body);
}

/**
 * Encodes a journal: chapters C and N of each channel journal, the system journal verbatim.
 * @throws MidiEncodeError for a value out of range, a repeated channel, note or controller.
 */
export function encodeJournal(j: RecoveryJournal): Uint8Array {
  const { checkpoint, channels, system } = j;
  int7('journal checkpoint (a 16-bit sequence number)', checkpoint, 0, 0xffff);
  const numbers = channels.map((c) => c.channel);
  unique('channel journal for channel', numbers);
  if (system && (system.length < 2 || (((system[0]! & 3) << 8) | system[1]!) !== system.length)) {
    throw encodeFail(`system journal of ${system.length} bytes does not match its LENGTH field`);
  }
  const a = channels.length > 0;
  const flags = (j.s ? 0x80 : 0) | (system ? 0x40 : 0) | (a ? 0x20 : 0) | (j.h ? 0x10 : 0);
  const out = [flags | (a ? channels.length - 1 : 0), checkpoint >> 8, checkpoint & 0xff];
  if (system) out.push(...system);
  for (const cj of channels) encodeChannel(cj, out);
  return Uint8Array.from(out);
}

/** Controllers journaled with chapter C's value tool: 0..119 except the parameter system (chapter M). */
const JOURNALED_CC = (c: number): boolean => c < 120 && c !== 6 && c !== 38 && (c < 96 || c > 101);
/** Channel mode messages that end every note on the channel (MIDI 1.0, "Channel Mode Messages"). */
const ENDS_NOTES = (c: number): boolean => c === 120 || c >= 123;

/** A note's or controller's last command: extended seqnum, RTP timestamp, velocity (0: NoteOff) or value. */
type Entry = { seq: number; ts: number; value: number };
/** `held`: notes sounding now, however old (never trimmed): an all-notes-off turns them into OFFBITS. */
type ChannelHistory = { notes: Map<number, Entry>; controllers: Map<number, Entry>; held: Set<number> };

/**
 * The sender's side: records what each packet sent and writes the journal for the next one. The history
 * starts at the first packet recorded and moves forward when RS feedback says a packet arrived.
 */
export class JournalState {
  readonly #channels = new Map<number, ChannelHistory>();
  readonly #playWindow: number;
  #last: number | undefined; // extended (unwrapped) sequence numbers; undefined before the first record
  #checkpoint = 0;

  /**
   * @param options.playWindow RTP timestamp units for which a NoteOn keeps the Y (play) bit: default 200,
   *   20 ms at Apple's 10 kHz clock (sfront's NSYS_SM_CN_MAXDELAY). Older missed NoteOns are not replayed.
   */
  constructor(options: { playWindow?: number } = {}) {
    this.#playWindow = options.playWindow ?? 200;
  }

  /** The 16-bit checkpoint sequence number, or undefined before anything was recorded. */
  get checkpoint(): number | undefined {
    return this.#last === undefined ? undefined : this.#checkpoint & 0xffff;
  }

  /** A 16-bit sequence number as an extended one, taken as the nearest to the last recorded. */
  #extend(seq: number): number {
    if (this.#last === undefined) return 0x10000 + (seq & 0xffff);
    return this.#last + ((((seq - this.#last) & 0xffff) << 16) >> 16);
  }

  #channel(ch: number): ChannelHistory {
    const h = this.#channels.get(ch) ?? { notes: new Map(), controllers: new Map(), held: new Set<number>() };
    this.#channels.set(ch, h);
    return h;
  }

  /** Records the complete MIDI commands of a packet just sent (running status never applies here). */
  record(packet: { sequence: number; timestamp: number; commands: readonly { bytes: Uint8Array }[] }): void {
    const seq = this.#extend(packet.sequence);
    if (this.#last === undefined) this.#checkpoint = seq;
    this.#last = this.#last === undefined ? seq : Math.max(this.#last, seq);
    const ts = packet.timestamp >>> 0;
    for (const { bytes } of packet.commands) {
      const status = bytes[0] ?? 0;
      if (status === 0xff) for (const ch of this.#channels.keys()) this.#allOff(ch, seq, ts);
      if (status < 0x80 || status >= 0xf0 || bytes.length < 3) continue;
      const [ch, kind, d1, d2] = [status & 0x0f, status & 0xf0, bytes[1]!, bytes[2]!];
      const h = this.#channel(ch);
      if (kind === 0x80 || kind === 0x90) {
        const on = kind === 0x90 && d2 > 0;
        h.held[on ? 'add' : 'delete'](d1);
        h.notes.set(d1, { seq, ts, value: on ? d2 : 0 });
      } else if (kind === 0xb0 && ENDS_NOTES(d1)) this.#allOff(ch, seq, ts);
      else if (kind === 0xb0 && JOURNALED_CC(d1)) h.controllers.set(d1, { seq, ts, value: d2 });
    }
  }

  #allOff(ch: number, seq: number, ts: number): void {
    const h = this.#channel(ch);
    for (const note of h.held) h.notes.set(note, { seq, ts, value: 0 });
    h.held.clear();
  }

  /** AppleMIDI RS: the receiver has every packet up to `sequence`, so the history can start after it. */
  acknowledge(sequence: number): void {
    if (this.#last === undefined) return;
    const acked = Math.min(this.#extend(sequence), this.#last);
    if (acked + 1 <= this.#checkpoint) return;
    this.#checkpoint = acked + 1;
    for (const h of this.#channels.values()) {
      for (const map of [h.notes, h.controllers]) {
        for (const [k, e] of map) if (e.seq < this.#checkpoint) map.delete(k);
      }
    }
  }

  /**
   * The journal for the packet about to be sent (`sequence`, `timestamp`): the history from the
   * checkpoint up to the previous packet. Undefined when that history holds nothing to recover.
   */
  journalFor(sequence: number, timestamp: number): RecoveryJournal | undefined {
    if (this.#last === undefined) return undefined;
    const upTo = this.#extend(sequence);
    const channels: ChannelJournal[] = [];
    for (const ch of [...this.#channels.keys()].sort((x, y) => x - y)) {
      const h = this.#channels.get(ch)!;
      const inHistory = ([, e]: [number, Entry]): boolean => e.seq >= this.#checkpoint && e.seq < upTo;
      const notes = [...h.notes].filter(inHistory).sort(([x], [y]) => x - y);
      const ccs = [...h.controllers].filter(inHistory).sort(([x], [y]) => x - y);
      const cj: ChannelJournal = { channel: ch };
      if (ccs.length > 0) cj.controllers = ccs.map(([controller, e]) => ({ controller, value: e.value }));
      if (notes.length > 0) cj.notes = { logs: [], off: [] };
      for (const [note, e] of notes) {
        const play = (timestamp - e.ts) >>> 0 <= this.#playWindow;
        if (e.value > 0) cj.notes!.logs.push({ note, velocity: e.value, play });
        else cj.notes!.off.push(note);
      }
      if (cj.notes || cj.controllers) channels.push(cj);
    }
    if (channels.length === 0) return undefined;
    return { checkpoint: this.#checkpoint & 0xffff, channels };
  }
}

/** The receiver's own state, as `recoveryCommands` needs it. Channels are wire channels 0..15. */
export interface ReceiverView {
  isHeld(channel: number, note: number): boolean;
  /** The last value the receiver applied for a controller, if known. */
  controllerValue?(channel: number, controller: number): number | undefined;
}

/**
 * The receiver's repair after a sequence gap: the MIDI commands (complete bytes) that bring its state to
 * what the journal describes. Chapter C value logs whose value differs from the receiver's, then a
 * NoteOff (release velocity 64) for every held note the journal shows as off, then a NoteOn for a logged
 * note the receiver does not hold, only when the sender set Y ("play": recent enough not to sound late,
 * A.6) and `playNoteOns` is not false. A held note with a log rings on; notes absent from chapter N did
 * not change since the checkpoint and are left alone. The S-bit shortcut is not used: every element is read.
 */
export function recoveryCommands(
  journal: RecoveryJournal,
  view: ReceiverView,
  options: { playNoteOns?: boolean } = {},
): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const { channel: ch, controllers, notes } of journal.channels) {
    const changed = (controllers ?? []).filter(
      (c) => !c.alt && view.controllerValue?.(ch, c.controller) !== c.value,
    );
    for (const c of changed) out.push(Uint8Array.of(0xb0 | ch, c.controller, c.value));
    if (!notes) continue;
    const off = new Set(notes.off);
    for (const l of notes.logs) if (l.velocity === 0) off.add(l.note);
    for (const note of off) if (view.isHeld(ch, note)) out.push(Uint8Array.of(0x80 | ch, note, 64));
    const missed = notes.logs.filter((l) => l.play && !off.has(l.note) && !view.isHeld(ch, l.note));
    if (options.playNoteOns === false) continue;
    for (const l of missed) out.push(Uint8Array.of(0x90 | ch, l.note, l.velocity));
  }
  return out;
}

/** A `ReceiverView` kept from the complete commands a receiver applies (its own and the repairs). */
export class ReceiverNotes implements ReceiverView {
  readonly #held = new Set<number>();
  readonly #controllers = new Map<number, number>();

  /** Updates the view with one complete MIDI command. */
  apply(bytes: Uint8Array): void {
    const status = bytes[0] ?? 0;
    if (status === 0xff) this.#held.clear();
    if (status < 0x80 || status >= 0xf0 || bytes.length < 3) return;
    const [ch, kind, d1, d2] = [status & 0x0f, status & 0xf0, bytes[1]!, bytes[2]!];
    if (kind === 0x90 && d2 > 0) this.#held.add(ch * 128 + d1);
    else if (kind === 0x80 || kind === 0x90) this.#held.delete(ch * 128 + d1);
    else if (kind === 0xb0 && ENDS_NOTES(d1)) for (let n = 0; n < 128; n++) this.#held.delete(ch * 128 + n);
    else if (kind === 0xb0) this.#controllers.set(ch * 128 + d1, d2);
  }

  isHeld(channel: number, note: number): boolean {
    return this.#held.has(channel * 128 + note);
  }

  controllerValue(channel: number, controller: number): number | undefined {
    return this.#controllers.get(channel * 128 + controller);
  }
}
