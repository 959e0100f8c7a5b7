/**
 * The parts as the page shows them: each part's state and reason from /health, the trouble found inside
 * its details (a TCP target that lost its peer, a UDP target whose sends fail, a listener not bound),
 * and when it last changed. Pure and DOM-free: it reads /health answers and the time it is given, so
 * every part that lands later is shown with no change here.
 */
import type { PartInfo } from './types.js';

/** States of a part, or of an item inside its details, that mean trouble. */
const BAD_STATES = new Set([
  'degraded',
  'failed',
  'unbound',
  'unavailable',
  'disconnected',
  'closed',
  'error',
  'lost',
]);
/** A part state that is not trouble but is not running either: worth a look while the daemon runs. */
const IDLE_STATES = new Set(['stopped', 'idle', 'stopping', 'starting']);
/** An item whose error counters rose within this is failing now. */
const ERRORS_RECENT_MS = 10_000;
/** Counters shown on a part's card, at most. */
const MAX_FIGURES = 8;

/** How a part or item stands: ok, worth a look, or in trouble. */
export type Level = 'ok' | 'notice' | 'trouble';

/** One problem found inside a part's details. */
export interface Finding {
  /** Where: `target sink`, `listener udp0`. */
  where: string;
  what: string;
}

/** A part as the page shows it. */
export interface PartView {
  name: string;
  kind: string;
  state: string;
  level: Level;
  reason: string | undefined;
  findings: Finding[];
  /** Headline counters: `[label, value]`. */
  figures: [string, string][];
  /** When the state last changed, and when any of its figures last changed (page clock, ms). */
  stateSince: number;
  activeAt: number | undefined;
  details: Record<string, unknown> | undefined;
}

interface Memory {
  state: string;
  stateSince: number;
  signature: string;
  activeAt: number | undefined;
  /** Error counters by item path, with the time they last rose. */
  errors: Map<string, { count: number; roseAt: number }>;
}

/** A label for an item of a details array: its name, id or address. */
function itemName(key: string, item: Record<string, unknown>, i: number): string {
  const label =
    item.name ??
    item.id ??
    item.osName ??
    (item.host === undefined ? undefined : `${item.host}:${item.port}`);
  const singular = key.endsWith('s') ? key.slice(0, -1) : key;
  return `${singular} ${typeof label === 'string' || typeof label === 'number' ? label : i + 1}`;
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** The items inside a part's details that have a state of their own: arrays of objects, one level down. */
function itemsOf(details: Record<string, unknown>): [string, Record<string, unknown>][] {
  const out: [string, Record<string, unknown>][] = [];
  const visit = (key: string, value: unknown, depth: number): void => {
    if (Array.isArray(value)) {
      value.forEach((item, i) => {
        if (isRecord(item)) out.push([itemName(key, item, i), item]);
      });
    } else if (isRecord(value) && depth < 2) {
      for (const [k, v] of Object.entries(value)) visit(k, v, depth + 1);
    }
  };
  for (const [k, v] of Object.entries(details)) visit(k, v, 0);
  return out;
}

/** The sum of an item's error counters (`sendErrors`, `decodeErrors`, `errors`…). */
function errorCount(item: Record<string, unknown>): number {
  let n = 0;
  for (const [k, v] of Object.entries(item)) if (/errors?$/i.test(k) && typeof v === 'number') n += v;
  return n;
}

/** The problems inside `details`; updates the error memory (`now` is the page clock). */
function findProblems(
  details: Record<string, unknown>,
  memory: Memory,
  now: number,
  partReason: string | undefined,
): Finding[] {
  const findings: Finding[] = [];
  const items: [string, Record<string, unknown>][] = [['', details], ...itemsOf(details)];
  for (const [where, item] of items) {
    const lastError = typeof item.lastError === 'string' ? item.lastError : undefined;
    const state = typeof item.state === 'string' ? item.state : undefined;
    if (where !== '' && state !== undefined && BAD_STATES.has(state)) {
      const why = typeof item.reason === 'string' ? item.reason : lastError;
      // The part's own reason says it already (MIDI ports without ALSA): the state alone then.
      findings.push({ where, what: why === undefined || why === partReason ? state : `${state}: ${why}` });
      continue;
    }
    if (item.connected === false) {
      findings.push({ where, what: `not connected${lastError ? `: ${lastError}` : ''}` });
      continue;
    }
    const count = errorCount(item);
    const seen = memory.errors.get(where);
    if (seen === undefined || count < seen.count) memory.errors.set(where, { count, roseAt: -Infinity });
    else if (count > seen.count) memory.errors.set(where, { count, roseAt: now });
    const rose = memory.errors.get(where)!.roseAt;
    if (now - rose <= ERRORS_RECENT_MS && lastError !== undefined)
      findings.push({ where: where || 'errors', what: `failing now: ${lastError}` });
  }
  return findings;
}

/** A short text for a figure. */
function format(v: unknown): string | undefined {
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : v.toFixed(Math.abs(v) < 10 ? 2 : 1);
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  if (typeof v === 'string' && v.length <= 24) return v;
  return undefined;
}

/** The headline figures of a part: its top-level numbers, booleans and short strings, non-zero first. */
function figuresOf(details: Record<string, unknown> | undefined): [string, string][] {
  if (details === undefined) return [];
  const all: [string, string, boolean][] = [];
  for (const [k, v] of Object.entries(details)) {
    const text = format(v);
    if (text !== undefined && k !== 'lastError') all.push([k, text, v !== 0 && v !== false]);
  }
  all.sort((a, b) => Number(b[2]) - Number(a[2]));
  return all.slice(0, MAX_FIGURES).map(([k, t]) => [k, t]);
}

function levelOf(state: string, findings: Finding[]): Level {
  if (BAD_STATES.has(state) || findings.length > 0) return 'trouble';
  if (IDLE_STATES.has(state)) return 'notice';
  return 'ok';
}

/** Tracks the parts across /health answers. */
export class PartsTracker {
  private readonly memory = new Map<string, Memory>();

  /** The parts of one /health answer, troubled first, as the page shows them. */
  update(parts: readonly PartInfo[], now: number): PartView[] {
    const views = parts.map((p) => this.view(p, now));
    const rank: Record<Level, number> = { trouble: 0, notice: 1, ok: 2 };
    return views.sort((a, b) => rank[a.level] - rank[b.level]);
  }

  private view(p: PartInfo, now: number): PartView {
    const key = `${p.kind}:${p.name}`;
    const signature = JSON.stringify(p.details ?? null);
    let m = this.memory.get(key);
    if (m === undefined) {
      m = { state: p.state, stateSince: now, signature, activeAt: undefined, errors: new Map() };
      this.memory.set(key, m);
    }
    if (m.state !== p.state) {
      m.state = p.state;
      m.stateSince = now;
    }
    if (m.signature !== signature) {
      m.signature = signature;
      m.activeAt = now;
    }
    const findings = p.details === undefined ? [] : findProblems(p.details, m, now, p.reason);
    return {
      name: p.name,
      kind: p.kind,
      state: p.state,
      level: levelOf(p.state, findings),
      reason: p.reason,
      findings,
      figures: figuresOf(p.details),
      stateSince: m.stateSince,
      activeAt: m.activeAt,
      details: p.details,
    };
  }
}
