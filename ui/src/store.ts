/**
 * Everything the page knows, and the loops that keep it live: GET /health twice a second (a part that
 * degrades shows within a second), GET /stats once a second, and the one /stream socket. Views
 * subscribe to a channel and are drawn again when it changes; traffic is redrawn at most
 * {@link TRAFFIC_REDRAW_MS} apart, whatever the message rate.
 */
import { Api, ApiError } from './api.js';
import { BusFigures } from './bus-figures.js';
import { MusicTime } from './music.js';
import { PartsTracker, type PartView } from './parts.js';
import { MAX_TYPE_RATE, StreamClient, type StreamState } from './stream.js';
import { loadToken, saveToken } from './token.js';
import { Traffic } from './traffic.js';
import type { AnyMessage, BusStats, ConfigView, Health, HealthBrief } from './types.js';

const HEALTH_EVERY_MS = 250;
const STATS_EVERY_MS = 1_000;
const TRAFFIC_REDRAW_MS = 500;
/** Parts whose counters only moved are drawn again at most this often. */
const FIGURES_EVERY_MS = 2_000;

/** `parts` and `music` change only when what they show changed: a quiet page draws nothing. */
export type Channel = 'health' | 'parts' | 'stats' | 'stream' | 'traffic' | 'music' | 'auth';

/** Whether the daemon wants a token: not at all, for mutating routes, or for reads too. */
export type TokenNeed = 'unknown' | 'none' | 'writes' | 'reads';

export interface AuthState {
  need: TokenNeed;
  /** The dialog asking for the token is open, with why. */
  asking: boolean;
  message: string;
}

/** The daemon as last heard: reachable or not, and since when. */
export interface Reach {
  ok: boolean;
  error: string;
  at: number;
}

export class Store {
  readonly api: Api;
  readonly bus = new BusFigures();
  readonly music = new MusicTime();
  readonly traffic = new Traffic();
  private readonly tracker = new PartsTracker();
  private readonly stream: StreamClient;
  parts: PartView[] = [];
  health: Health | undefined;
  stats: BusStats | undefined;
  reach: Reach = { ok: true, error: '', at: 0 };
  /** The last request the daemon answered with an error (kept for the console and tests). */
  lastError = '';
  streamState: StreamState = { kind: 'connecting' };
  auth: AuthState = { need: 'unknown', asking: false, message: '' };
  private token = loadToken();
  private readonly listeners = new Map<Channel, Set<() => void>>();
  private trafficDirty = false;
  private partsSignature = '';
  private partsStates = '';
  private partsShownAt = 0;
  private musicSignature = '';

  constructor(private readonly base: string) {
    this.api = new Api(base, () => this.token);
    const wsBase =
      base === ''
        ? `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}`
        : base.replace(/^http/, 'ws');
    this.stream = new StreamClient(`${wsBase}/stream?maxTypeRate=${MAX_TYPE_RATE}`, () => this.token, {
      message: (m) => this.onMessage(m),
      state: (s) => {
        this.streamState = s;
        this.emit('stream');
      },
    });
  }

  get hasToken(): boolean {
    return this.token !== '';
  }

  /**
   * False while reads need a token this page lacks (or holds a refused one): /stats and the stream
   * then wait for the token rather than be refused every second; /health still answers its status.
   */
  private get readsAllowed(): boolean {
    return this.auth.need !== 'reads' || (this.hasToken && !this.tokenRefused);
  }

  private tokenRefused = false;

  /** Calls `fn` when `channel` changes; returns the unsubscribe. */
  on(channel: Channel, fn: () => void): () => void {
    let set = this.listeners.get(channel);
    if (set === undefined) {
      set = new Set();
      this.listeners.set(channel, set);
    }
    set.add(fn);
    return () => set.delete(fn);
  }

  private emit(channel: Channel): void {
    for (const fn of this.listeners.get(channel) ?? []) fn();
  }

  async start(): Promise<void> {
    await this.learnTokenNeed();
    if (this.readsAllowed) this.stream.start();
    this.loop(HEALTH_EVERY_MS, () => this.pollHealth());
    this.loop(STATS_EVERY_MS, () => this.pollStats());
    // The page lives as long as the store: its loops are never stopped.
    window.setInterval(() => {
      if (!this.trafficDirty) return;
      this.trafficDirty = false;
      this.emit('traffic');
    }, TRAFFIC_REDRAW_MS);
  }

  /** Runs `work` every `ms`, the next run only after the previous one ended (no pile-up on a slow daemon). */
  private loop(ms: number, work: () => Promise<void>): void {
    const run = async () => {
      try {
        await work();
      } finally {
        // Whatever escaped `work`, the polling goes on: frozen plots would say "all is well".
        window.setTimeout(run, ms);
      }
    };
    void run();
  }

  private onMessage(m: AnyMessage): void {
    const now = Date.now();
    this.traffic.add(m, now);
    this.trafficDirty = true;
    if (this.music.addMessage(m, now)) this.emit('music');
  }

  private async pollHealth(): Promise<void> {
    const token = this.token;
    try {
      const { body } = await this.api.read<Health | HealthBrief>('/health');
      const now = Date.now();
      const wasDown = !this.reach.ok;
      this.reach = { ok: true, error: '', at: now };
      if (!('parts' in body)) {
        // Asked with a token since replaced: this answer says nothing of the new one.
        if (token !== this.token) return;
        // Reads need the token and this page has none, or a wrong one: /health answers its status only.
        if (this.auth.need !== 'reads') this.setNeed('reads');
        this.tokenRefused = this.hasToken;
        this.askToken(this.hasToken ? 'refused' : 'needed');
      } else {
        // Answering again after a restart (or a network gap): the stream need not wait out its back-off.
        if (wasDown && this.readsAllowed) this.stream.reconnectSoon();
        this.health = body;
        this.bus.addHealth(body, now);
        this.updateParts(this.tracker.update(body.parts, now));
        this.music.addHealth(body.parts);
        const music = this.music.signature();
        if (music !== this.musicSignature) {
          this.musicSignature = music;
          this.emit('music');
        }
      }
    } catch (e) {
      this.failed(e, token);
    }
    this.emit('health');
  }

  /**
   * A part's state, level, reason or findings changed: drawn at once (a degraded part shows within a
   * second). Only its counters moved: drawn at most every {@link FIGURES_EVERY_MS}.
   */
  private updateParts(parts: PartView[]): void {
    const now = Date.now();
    const states = JSON.stringify(parts.map((p) => [p.name, p.state, p.level, p.reason, p.findings]));
    const signature = JSON.stringify(parts, (k, v) => (k === 'details' ? undefined : v));
    this.parts = parts;
    if (
      states === this.partsStates &&
      (signature === this.partsSignature || now - this.partsShownAt < FIGURES_EVERY_MS)
    )
      return;
    this.partsStates = states;
    this.partsSignature = signature;
    this.partsShownAt = now;
    this.emit('parts');
  }

  private async pollStats(): Promise<void> {
    const now = Date.now();
    this.traffic.sampleRate(now);
    if (!this.readsAllowed) return;
    const token = this.token;
    try {
      this.stats = await this.api.get<BusStats>('/stats');
      this.bus.addStats(this.stats, Date.now());
      this.emit('stats');
    } catch (e) {
      this.failed(e, token);
    }
  }

  /** A request made with `token` failed; a refusal of a token since replaced is old news. */
  private failed(e: unknown, token = this.token): void {
    if (e instanceof ApiError && e.status === 401) {
      if (token !== this.token) return;
      this.tokenRefused = this.hasToken;
      this.askToken(this.hasToken ? 'refused' : 'needed');
      return;
    }
    // An answer with an error status (a 500 from /stats) means the daemon is there: only no answer at
    // all (status 0) says it is unreachable. The answered error shows as the request's own error.
    if (e instanceof ApiError && e.status > 0) {
      this.lastError = e.text;
      return;
    }
    const text = e instanceof ApiError ? e.text : String(e);
    this.reach = { ok: false, error: text, at: this.reach.ok ? Date.now() : this.reach.at };
  }

  /** What the daemon wants: reads open? a token set? (GET /config shows `api.token` redacted when set.) */
  private async learnTokenNeed(): Promise<void> {
    try {
      const cfg = await this.api.get<ConfigView>('/config');
      this.setNeed(cfg.api?.token === '' ? 'none' : 'writes');
      if (this.auth.need === 'writes' && !this.hasToken) this.askToken('needed');
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) {
        this.setNeed('reads');
        this.tokenRefused = this.hasToken;
        this.askToken(this.hasToken ? 'refused' : 'needed');
      } else this.failed(e);
    }
  }

  private setNeed(need: TokenNeed): void {
    this.auth = { ...this.auth, need };
    this.emit('auth');
  }

  /** Opens the token dialog with why (unless the person chose to watch without a token). */
  askToken(why: 'needed' | 'refused' | 'asked'): void {
    if (this.auth.asking) return;
    // Watching without a token was chosen: only an action the person takes asks again.
    if (why !== 'asked' && this.dismissed) return;
    const message =
      why === 'refused'
        ? 'The daemon refused the token this page holds (PFM_ERR_API_UNAUTHORIZED). Enter the right one.'
        : 'This daemon needs its API token (api.token) for this. It is kept for this browser tab only.';
    this.auth = { ...this.auth, asking: true, message };
    this.emit('auth');
  }

  private dismissed = false;

  /** The person closed the dialog without a token: watch only, do not ask again unasked. */
  dismissToken(): void {
    this.dismissed = true;
    this.auth = { ...this.auth, asking: false };
    this.emit('auth');
  }

  /**
   * Tries `token`; keeps it when the daemon takes it, else returns why not. With reads open, only a
   * mutating route tells a right token from a wrong one: POST /messages with an empty body is checked
   * for the token before its body (daemon/api/server.ts, onRequest hook), so a right token gets 400 for
   * the body and nothing is published, a wrong one 401.
   */
  async tryToken(token: string): Promise<string | undefined> {
    const probe = new Api(this.base, () => token);
    try {
      await probe.get('/stats');
      await probe.send('POST', '/messages', {});
    } catch (e) {
      if (!(e instanceof ApiError)) return String(e);
      if (e.status === 401) return `Refused: ${e.text}`;
      if (e.status !== 400) return e.text;
    }
    this.token = token;
    saveToken(token);
    this.tokenRefused = false;
    this.dismissed = false;
    this.auth = { ...this.auth, asking: false, message: '' };
    this.emit('auth');
    this.stream.restart();
    return undefined;
  }

  /** Forgets the token (this tab's session). */
  forgetToken(): void {
    this.token = '';
    saveToken('');
    this.emit('auth');
    this.stream.restart();
  }

  /**
   * Runs a control action; resolves with what to show: the answer, or the API's error as it said it.
   * A 401 opens the token dialog.
   */
  async act(run: (api: Api) => Promise<unknown>): Promise<{ ok: boolean; text: string }> {
    try {
      const answer = await run(this.api);
      return { ok: true, text: answer === undefined ? 'done' : JSON.stringify(answer) };
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) this.askToken(this.hasToken ? 'refused' : 'asked');
      return { ok: false, text: e instanceof ApiError ? e.text : String(e) };
    }
  }
}
