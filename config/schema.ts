/**
 * The configuration schema: one TypeBox schema gives the static type, the validation and the defaults
 * (issue "Config (config/)"). Every key has a `description`, shown in the docs.
 */
import Type from 'typebox';
import Value from 'typebox/value';
import { AgentsSchema } from './agents-schema.js';
import { AudioSchema } from './audio-schema.js';
import { deepFreeze } from './deep-freeze.js';
import { ListenSchema } from './listen-schema.js';
import { MidiSchema } from './midi-schema.js';
import { OscSchema } from './osc-schema.js';

/** Every object is closed (`additionalProperties: false`) so a typo such as `api.prot` is an error. */
const closed = { additionalProperties: false } as const;

/** A UDP/TCP port. `0` asks the OS for a free port (CONVENTIONS.md: every port accepts 0, tests use it). */
const port = (defaultPort: number, description: string) =>
  Type.Integer({ minimum: 0, maximum: 65535, default: defaultPort, description });

const ApiSchema = Type.Object(
  {
    host: Type.String({
      minLength: 1,
      default: '127.0.0.1',
      description:
        'Address the control API (REST and WebSocket) binds. Anything but loopback requires `api.token`.',
    }),
    port: port(7070, 'TCP port of the control API; 0 picks a free port.'),
    token: Type.String({
      default: '',
      description:
        'Bearer token required by mutating routes (and by reads with `api.tokenForReads`); empty means no token (allowed only on loopback).',
    }),
    tokenForReads: Type.Boolean({
      default: false,
      description:
        'Require `api.token` for reads too: /stream, /config, /stats, /metrics, /agents, /adapters, /midi/ports. ' +
        '/health still answers without it, with its status only (for a load balancer or a monitor), and /docs ' +
        'stays open (it describes the routes, not this setup). Meant for an API bound beyond loopback; it ' +
        'applies on loopback too. No effect while `api.token` is empty.',
    }),
    bodyLimitBytes: Type.Integer({
      minimum: 1024,
      maximum: 10485760,
      default: 65536,
      description: 'Largest accepted request body, in bytes.',
    }),
    rateLimit: Type.Object(
      {
        max: Type.Integer({
          minimum: 1,
          default: 600,
          description: 'Requests allowed per client within one time window.',
        }),
        timeWindowMs: Type.Integer({
          minimum: 1,
          default: 1000,
          description: 'Length of the rate-limit window, in milliseconds.',
        }),
      },
      { ...closed, default: {}, description: 'Per-client request rate limit of the control API.' },
    ),
    stream: Type.Object(
      {
        maxBufferedBytes: Type.Integer({
          minimum: 1024,
          default: 1048576,
          description:
            'A WebSocket client with more unsent bytes than this is dropped, so one slow client cannot grow the memory of the daemon.',
        }),
        maxClients: Type.Integer({
          minimum: 1,
          default: 32,
          description:
            'Most clients connected at once (a show has a few dashboards and monitors); one more is closed with code 1013 (try again later) and the reason.',
        }),
        maxClientsPerAddress: Type.Integer({
          minimum: 1,
          default: 8,
          description:
            'Most clients connected at once from one address, so one machine cannot take every place; behind a reverse proxy every client has its address: raise this to `maxClients`.',
        }),
      },
      { ...closed, default: {}, description: 'Live WebSocket stream of bus traffic (/stream).' },
    ),
  },
  { ...closed, default: {}, description: 'The control API: REST routes, WebSocket stream, metrics.' },
);

const CoalesceRuleSchema = Type.Object(
  {
    by: Type.Array(Type.String(), {
      minItems: 1,
      description:
        'Payload fields that form the coalescing key (with the recipient); a message lacking one is not coalesced.',
    }),
  },
  { ...closed, description: 'How queued messages of one type are coalesced.' },
);

const BusSchema = Type.Object(
  {
    maxQueueSize: Type.Integer({
      minimum: 1,
      default: 100000,
      description:
        'Most messages the bus queue holds; beyond it a message evicts one of lower priority or is refused.',
    }),
    sliceMs: Type.Number({
      exclusiveMinimum: 0,
      default: 1,
      description:
        'Longest run of the delivery loop before it yields to the event loop, so network and MIDI I/O are never starved.',
    }),
    slowHandlerMs: Type.Number({
      exclusiveMinimum: 0,
      default: 2,
      description: 'A handler taking longer than this is reported as slow.',
    }),
    timingEvery: Type.Integer({
      minimum: 1,
      default: 64,
      description:
        'Handler calls between two clock reads in the delivery loop (clock reads are not free); 1 times every call.',
    }),
    clockReuse: Type.Integer({
      minimum: 1,
      default: 64,
      description: 'Publishes that share one clock read for their timestamps; 1 stamps each one exactly.',
    }),
    statsWindowMs: Type.Number({
      exclusiveMinimum: 0,
      default: 10000,
      description: 'Sliding window of the latency percentiles in stats, in milliseconds.',
    }),
    stopTimeoutMs: Type.Number({
      exclusiveMinimum: 0,
      default: 5000,
      description:
        'Deadline of the drain when the bus stops, in milliseconds; what is still queued then is discarded.',
    }),
    coalesce: Type.Record(Type.String(), CoalesceRuleSchema, {
      // A MIDI or OSC fader streams control_change: one queue slot per channel and controller.
      default: { control_change: { by: ['channel', 'controller'] } },
      description:
        'Coalescing rules by message type name, e.g. `fader: { by: [channel] }`: a newer queued message replaces an older one with the same values. Discrete types (notes, beats, transport) are refused by the bus.',
    }),
  },
  { ...closed, default: {}, description: 'The priority message bus.' },
);

/** pino's levels, plus `silent`. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const LogSchema = Type.Object(
  {
    level: Type.Enum(LOG_LEVELS, {
      default: 'info',
      description: 'Lowest level logged. Per-message logs are at debug and trace.',
    }),
    pretty: Type.Enum(['auto', 'always', 'never'], {
      default: 'auto',
      description: 'Human-readable logs: `auto` when stdout is a terminal, JSON otherwise (journald).',
    }),
  },
  { ...closed, default: {}, description: 'Logging.' },
);

const DaemonSchema = Type.Object(
  {
    stopTimeoutMs: Type.Integer({
      minimum: 100,
      default: 10000,
      description: "Deadline of each part's stop, in milliseconds.",
    }),
    watchdog: Type.Boolean({
      default: true,
      description: 'Send systemd watchdog pings, so a blocked event loop gets the service restarted.',
    }),
    realtimePriority: Type.Integer({
      minimum: 0,
      maximum: 99,
      default: 0,
      description:
        'Run the event loop at SCHED_FIFO with this priority (1..99; Linux, util-linux chrt), so beats and ' +
        'MIDI clock leave on time on a busy machine; 0 leaves it at normal priority. Needs RLIMIT_RTPRIO ' +
        '(the shipped systemd unit allows up to 70). Applies at start; a failure is logged and shown in ' +
        '/health (scheduler.realtime), and the daemon runs on at normal priority.',
    }),
  },
  { ...closed, default: {}, description: 'The daemon process itself.' },
);

/** The whole configuration of the daemon. */
export const ConfigSchema = Type.Object(
  {
    api: ApiSchema,
    bus: BusSchema,
    osc: OscSchema,
    midi: MidiSchema,
    audio: AudioSchema,
    listen: ListenSchema,
    agents: AgentsSchema,
    log: LogSchema,
    daemon: DaemonSchema,
  },
  { ...closed, default: {}, description: 'Performia configuration.' },
);

/** The configuration as the daemon sees it: every key present. */
export type PerformiaConfig = Type.Static<typeof ConfigSchema>;

/**
 * The embedded default: every key at its schema default. Complete, so a daemon with no config file runs
 * on it. Deep-frozen.
 */
export const DEFAULT_CONFIG: PerformiaConfig = deepFreeze(Value.Default(ConfigSchema, {}) as PerformiaConfig);
