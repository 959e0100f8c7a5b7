/**
 * Built-in OSC presets (issue #4): named config fragments (routes, targets, outputs, and the port a
 * target replies on) that `osc.presets: [name]` merges into the config. The loader merges them before
 * it validates (load.ts), so GET /config and `performia check-config` show the effective result.
 *
 * Merging, per preset in the order listed:
 * - routes and outputs: the preset's come after the user's own. The first matching route wins, so a
 *   route of yours for the same address overrides the preset's.
 * - targets: the preset's are added. If you define one of the same name, its keys win, key by key, as
 *   a config file's keys win over the defaults: `ableton: { host: 192.168.1.20 }` moves the target and
 *   keeps the preset's port and onStart; `onStart: []` drops those.
 * - replies: a UDP listener on the port the target replies on is added to `extraListen`, unless some
 *   listener (`listen` or `extraListen`) already uses that port: then that one is yours to get right.
 * - An item equal to one already present is not added again, so merging is idempotent: the effective
 *   config, saved (formatConfig) and loaded again, is the same config.
 */
import { isDeepStrictEqual } from 'node:util';
import { deepFreeze } from './deep-freeze.js';
import type { OscOutputConfig, OscPresetName, OscRouteConfig, OscTargetConfig } from './osc-schema.js';
import { isPlainObject } from './problems.js';

/** A preset: what it merges into `osc`. */
export interface OscPreset {
  readonly description: string;
  readonly routes: readonly OscRouteConfig[];
  readonly targets: Readonly<Record<string, OscTargetConfig>>;
  readonly outputs: readonly OscOutputConfig[];
  /**
   * The target answers on a fixed UDP port of ours: the merge adds a listener there. Its host follows
   * the effective target: 127.0.0.1 for a target on loopback, else 0.0.0.0 (the reply comes to this
   * machine's address on the target's network, which only the wildcard address is sure to cover).
   */
  readonly replies?: { readonly target: string; readonly port: number };
}

/** AbletonOSC's fixed ports: it listens on 11000 and replies on 11001 (abletonosc/constants.py). */
const ABLETONOSC_PORT = 11000;
const ABLETONOSC_REPLY_PORT = 11001;

/**
 * AbletonOSC (github.com/ideoforms/AbletonOSC), a remote script giving Live an OSC interface. What it
 * does was read from its source, not guessed:
 * - README.md ("Usage", at eb1dccd): listens on 11000, "sends replies on port 11001"; "Replies will be
 *   sent to the same IP as the originating message". abletonosc/constants.py: OSC_LISTEN_PORT = 11000,
 *   OSC_RESPONSE_PORT = 11001. abletonosc/osc_server.py (at 316c1d8): replies and listener updates go to
 *   (IP of the last sender, 11001), whatever port the request came from; a bundle is taken apart and
 *   its messages handled at once, its timetag ignored (so `timetags` stays false).
 * - abletonosc/song.py (at d24a3d9): `/live/song/start_listen/beat` adds a current_song_time listener
 *   that sends `/live/song/get/beat` with one int, `int(current_song_time)`, each time the song passes
 *   a whole beat or jumps back: Live's running beat count from the start of the song, 0-based, not the
 *   beat within the bar. README.md ("Beat events") says the same.
 * - song.py: `tempo` is a read/write Song property, so `/live/song/start_listen/tempo`,
 *   `/live/song/get/tempo` and `/live/song/set/tempo` exist. abletonosc/handler.py (`_start_listen`):
 *   a listener sends the current value at once, then on each change, to `/live/song/get/<property>`
 *   with the value (a float, bpm) and no index for the Song. `_set_property` sets it from argument 0.
 * - abletonosc/application.py (at 0ca6821): when Live loads the script it sends `/live/startup` (no
 *   arguments) to its default reply address, 127.0.0.1:11001, with no listener of before left: the
 *   route turns it into `osc_target_restart` for `ableton`, and the adapter sends the start_listen
 *   requests again (adapters/osc/outputs.ts). Only a Live on this machine reaches us so; for a Live
 *   elsewhere, `systemctl reload performia` sends them again too.
 *
 * The beat: the catalog's `beat_event` is `{ beat, bar, bpm, at }`, `beat` being the beat in the bar
 * (1-based). Live sends only its running count, so the route builds the rest with the generic route
 * steps: beat = count mod 4 + 1, bar = count div 4 + 1, bpm = the last tempo Live sent (the tempo
 * route latches it; 120 until then), at = the arrival time. That assumes 4/4: Live's time signature is
 * not followed yet (it would need its own listener, `/live/song/start_listen/signature_numerator`).
 */
export const ABLETONOSC_PRESET: OscPreset = deepFreeze<OscPreset>({
  description: 'Ableton Live through the AbletonOSC remote script: beats and tempo in, tempo out.',
  routes: [
    {
      address: '/live/song/get/beat',
      type: 'beat_event',
      priority: 'CRITICAL',
      payload: {
        beat: { arg: 0, mod: 4, add: 1 },
        bar: { arg: 0, div: 4, add: 1 },
        bpm: { latch: 'abletonosc.bpm', default: 120 },
        at: { now: true },
      },
    },
    {
      address: '/live/song/get/tempo',
      type: 'tempo_change',
      priority: 'HIGH',
      payload: { bpm: { arg: 0 } },
      latch: { 'abletonosc.bpm': { arg: 0 } },
    },
    {
      address: '/live/startup',
      type: 'osc_target_restart',
      priority: 'HIGH',
      payload: { target: { value: 'ableton' } },
    },
  ],
  targets: {
    ableton: {
      host: '127.0.0.1',
      port: ABLETONOSC_PORT,
      protocol: 'udp',
      timetags: false,
      onStart: [{ address: '/live/song/start_listen/beat' }, { address: '/live/song/start_listen/tempo' }],
    },
  },
  outputs: [
    {
      type: 'tempo_change',
      target: 'ableton',
      address: '/live/song/set/tempo',
      args: [{ type: 'f', from: 'bpm' }],
    },
  ],
  replies: { target: 'ableton', port: ABLETONOSC_REPLY_PORT },
});

/** The built-in presets by name. */
export const OSC_PRESETS: Readonly<Record<OscPresetName, OscPreset>> = Object.freeze({
  abletonosc: ABLETONOSC_PRESET,
});

/**
 * The config with the presets of `osc.presets` merged in (see the top of this file). Takes any value,
 * so the loader can call it before validation: parts of the wrong shape are left as they are, for
 * validation to report, and an unknown preset name is skipped (the schema reports it). The input is not
 * changed.
 */
export function applyPresets<T>(config: T): T {
  if (!isPlainObject(config) || !isPlainObject(config.osc) || !Array.isArray(config.osc.presets))
    return config;
  let osc: Record<string, unknown> = config.osc;
  for (const name of new Set<unknown>(config.osc.presets)) {
    if (typeof name === 'string' && Object.hasOwn(OSC_PRESETS, name)) {
      osc = mergePreset(osc, OSC_PRESETS[name as OscPresetName]);
    }
  }
  return osc === config.osc ? config : ({ ...config, osc } as T);
}

function mergePreset(osc: Record<string, unknown>, preset: OscPreset): Record<string, unknown> {
  const out = { ...osc };
  if (Array.isArray(osc.routes)) out.routes = appendNew(osc.routes, preset.routes);
  if (Array.isArray(osc.outputs)) out.outputs = appendNew(osc.outputs, preset.outputs);
  if (isPlainObject(osc.targets)) {
    const targets = { ...osc.targets };
    for (const [name, target] of Object.entries(preset.targets)) {
      const mine = targets[name];
      if (!Object.hasOwn(targets, name)) targets[name] = structuredClone(target);
      else if (isPlainObject(mine)) targets[name] = { ...structuredClone(target), ...mine };
    }
    out.targets = targets;
  }
  const listener = replyListener(out, preset);
  if (listener !== undefined) out.extraListen = [...(out.extraListen as unknown[]), listener];
  return out;
}

/** `list` and then each of `extra` not equal to an item already there. */
function appendNew(list: readonly unknown[], extra: readonly unknown[]): unknown[] {
  const out = [...list];
  for (const item of extra) {
    if (!out.some((have) => isDeepStrictEqual(have, item))) out.push(structuredClone(item));
  }
  return out;
}

/** The listener the preset's replies need, or undefined when there is none to add. */
function replyListener(
  osc: Record<string, unknown>,
  preset: OscPreset,
): { host: string; port: number } | undefined {
  const { replies } = preset;
  if (replies === undefined || !Array.isArray(osc.extraListen) || !isPlainObject(osc.targets))
    return undefined;
  const target = osc.targets[replies.target];
  if (!isPlainObject(target) || typeof target.host !== 'string') return undefined;
  const taken = [osc.listen, ...osc.extraListen].some((l) => isPlainObject(l) && l.port === replies.port);
  if (taken) return undefined;
  return { host: isLoopback(target.host) ? '127.0.0.1' : '0.0.0.0', port: replies.port };
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}
