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
export type { ConfigProblem } from './problems.js';
export { ConfigSchema, DEFAULT_CONFIG, LOG_LEVELS, type PerformiaConfig } from './schema.js';
