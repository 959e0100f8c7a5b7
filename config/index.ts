/** The configuration layer: schema, embedded default and loader (issue "Config (config/)"). */
export {
  CONFIG_ENV_OVERRIDES,
  type ConfigEnvOverride,
  type ConfigInvalidErrorWithProblems,
  configProblemsOf,
  formatConfig,
  type LoadConfigOptions,
  loadConfig,
  REDACTED,
  redactConfig,
  validateConfig,
} from './load.js';
export { MIDI_FIELD_NAMES, MIDI_SEND_FIELDS } from './midi-rules.js';
export {
  MIDI_KIND_NAMES,
  MIDI_SEND_KINDS,
  type MidiConfig,
  type MidiOutputConfig,
  type MidiPeerConfig,
  type MidiPortMatchConfig,
  type MidiRouteConfig,
} from './midi-schema.js';
export {
  OSC_DATALESS_TAGS,
  OSC_PRESET_NAMES,
  OSC_TYPE_TAGS,
  type OscConfig,
  type OscListenerConfig,
  type OscOutputArgConfig,
  type OscOutputConfig,
  type OscPayloadFieldConfig,
  type OscPresetName,
  type OscRouteConfig,
  type OscStartArgConfig,
  type OscStartMessageConfig,
  type OscTargetConfig,
  type OscTcpConfig,
  type OscTypeTag,
} from './osc-schema.js';
export {
  ABLETONOSC_PRESET,
  applyPresets,
  OSC_PRESETS,
  type OscPreset,
} from './presets.js';
export type { ConfigProblem } from './problems.js';
export { ConfigSchema, DEFAULT_CONFIG, LOG_LEVELS, type PerformiaConfig } from './schema.js';
