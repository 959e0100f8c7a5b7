/**
 * The band (issue #8): the agents' public surface, and the factory the daemon's parts list uses.
 */
import Value from 'typebox/value';
import { type AgentsConfig, AgentsSchema } from '../config/agents-schema.js';
import type { PerformiaConfig } from '../config/index.js';
import type { Part, PartContext, PartFactory } from '../daemon/kernel/part.js';
import type { AgentContext } from './agent.js';
import { Analytics } from './analytics.js';
import { Bass } from './bass.js';
import { Conductor } from './conductor.js';
import { Drums, meterOf } from './drums.js';
import { Harmony } from './harmony.js';

export {
  Agent,
  type AgentContext,
  type AgentCounters,
  type AgentSubscribeOptions,
  on,
  type Subscription,
} from './agent.js';
export { Analytics, type AnalyticsReport, type LatencySummary, percentile } from './analytics.js';
export { BASS_LOW, Bass, patternInterval } from './bass.js';
export { Conductor, PROGRESSION_CHANGE, parseProgression } from './conductor.js';
export { type DrumHit, Drums, hitsOfBeat, type Meter, meterOf } from './drums.js';
export { Harmony, movement, voiceChord, voicingCandidates, voicingTones } from './harmony.js';
export {
  type Chord,
  ChordSymbolError,
  hzToMidi,
  midiToHz,
  noteName,
  noteNumber,
  PITCH_CLASS_NAMES,
  parseChord,
  pitchClassOf,
  placePitchClass,
} from './music/theory.js';

/**
 * The `agents` section of a config; the section's defaults while the config schema does not hold it
 * (the daemon's schema adds it; a config without it runs the default band).
 */
export function agentsConfigOf(config: PerformiaConfig): AgentsConfig {
  const section = (config as unknown as { agents?: AgentsConfig }).agents;
  return section ?? (Value.Default(AgentsSchema, {}) as AgentsConfig);
}

/**
 * Builds the enabled agents from `config.agents`: conductor, bass, drums, harmony, analytics, in that
 * order (the daemon starts parts in list order and stops them in reverse). None when `agents.enabled`
 * is false. Throws, naming the key, on a chord symbol the schema's shape check let through.
 */
export const agentParts: PartFactory = (ctx: PartContext): Part[] => {
  const agents = agentsConfigOf(ctx.config);
  if (!agents.enabled) return [];
  const context = (id: string): AgentContext => ({
    bus: ctx.bus,
    scheduler: ctx.scheduler,
    logger: ctx.logger.child({ component: `agent.${id}` }),
  });
  const { conductor, bass, drums, harmony, analytics } = agents;
  const parts: Part[] = [];
  if (conductor.enabled) parts.push(new Conductor(conductor, context('conductor')));
  if (bass.enabled) parts.push(new Bass(bass, context('bass')));
  if (drums.enabled) parts.push(new Drums(drums, meterOf(conductor.timeSignature), context('drums')));
  if (harmony.enabled) {
    parts.push(new Harmony(harmony, conductor.timeSignature[0], context('harmony')));
  }
  if (analytics.enabled) parts.push(new Analytics(analytics, context('analytics')));
  return parts;
};
