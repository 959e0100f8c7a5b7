/** The bus's public surface. */
export type { BusEvents } from './bus-events.js';
export {
  type BusState,
  type MessageBusOptions,
  type SampleObserver,
  type StopOptions,
  type StopReport,
  systemClock,
} from './bus-options.js';
export type { BusStats, MessageCounts } from './bus-stats.js';
export type { CoalesceRule } from './coalesce.js';
export type { LatencySummary } from './latency-window.js';
export { MessageBus } from './message-bus.js';
export {
  type AnyMessage,
  BROADCAST,
  type BusTime,
  DEFAULT_PRIORITY,
  DISCRETE_TYPES,
  type Message,
  type MessageMap,
  type MessageType,
  type OscValue,
  type PayloadOf,
  PRIORITY_NAMES,
  Priority,
  type PriorityName,
  type PublishInput,
} from './messages.js';
export { type BusLogger, RateLimitedLog, silentLogger } from './rate-limited-log.js';
export type { Handler, SubscribeOptions, SubscriberInfo } from './router.js';
