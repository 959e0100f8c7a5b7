/**
 * Every error Performia raises, in one place (CONVENTIONS.md, "Errors").
 *
 * Each has a stable code `PFM_ERR_<AREA>_<WHAT>`, a message template, and the HTTP status the control
 * API answers with. `test/unit/errors.test.ts` keeps this list and README's error table in step.
 * Each constructor takes the template's arguments, then optionally `{ cause }` (the original error).
 */
import { createError, type FastifyErrorConstructor } from '@fastify/error';

type PfmErrorConstructor<C extends string, A extends unknown[]> = FastifyErrorConstructor<
  { code: C; statusCode: number },
  [...A, ErrorOptions?]
>;

function define<A extends unknown[]>() {
  return <C extends `PFM_ERR_${string}`>(
    code: C,
    message: string,
    statusCode: number,
    Base?: ErrorConstructor,
  ): PfmErrorConstructor<C, A> => createError(code, message, statusCode, Base) as PfmErrorConstructor<C, A>;
}

/** A published message was malformed (bad type, priority, recipient). */
export const BusInvalidMessageError = define<[reason: string]>()(
  'PFM_ERR_BUS_INVALID_MESSAGE',
  'Invalid bus message: %s',
  400,
  TypeError,
);

/** The queue is full and holds nothing of a strictly lower priority to evict. */
export const BusFullError = define<[size: number, priority: string, type: string]>()(
  'PFM_ERR_BUS_FULL',
  'Bus queue is full (%d messages) and holds nothing of lower priority than %s to evict; message "%s" refused',
  503,
);

/** publish() after stop() was called. */
export const BusStoppedError = define<[type: string]>()(
  'PFM_ERR_BUS_STOPPED',
  'Bus is stopped; message "%s" refused',
  503,
);

/** The bus was given an invalid option (constructor or subscribe). */
export const BusInvalidOptionError = define<[reason: string]>()(
  'PFM_ERR_BUS_INVALID_OPTION',
  'Invalid bus option: %s',
  500,
  RangeError,
);

/** A subscriber's handler threw or rejected; reported through the `handlerError` event and stats. */
export const BusHandlerError = define<[subscriber: string, type: string, id: number]>()(
  'PFM_ERR_BUS_HANDLER',
  'Handler of subscriber %s failed on message "%s" #%d',
  500,
);

/** The configuration is invalid: names the key, the value and what was expected. */
export const ConfigInvalidError = define<[problems: string]>()(
  'PFM_ERR_CONFIG_INVALID',
  'Invalid configuration: %s',
  400,
);

/** A configuration file cannot be read or parsed. */
export const ConfigFileError = define<[file: string, reason: string]>()(
  'PFM_ERR_CONFIG_FILE',
  'Cannot load configuration file %s: %s',
  400,
);

/** The control API would bind a non-loopback address without a token. */
export const ApiInsecureBindError = define<[host: string]>()(
  'PFM_ERR_API_INSECURE_BIND',
  'The control API is bound to %s, which is not loopback: set api.token (or PERFORMIA_API_TOKEN) first',
  500,
);

/** The control API cannot listen (port in use, permission denied, bad address). */
export const ApiListenError = define<[address: string, reason: string]>()(
  'PFM_ERR_API_LISTEN',
  'The control API cannot listen on %s: %s',
  500,
);

/** A route that needs the token (every mutating one; reads too with `api.tokenForReads`) got none or a wrong one. */
export const ApiUnauthorizedError = define<[]>()(
  'PFM_ERR_API_UNAUTHORIZED',
  'Missing or wrong bearer token: this API has a token (api.token) and needs "Authorization: Bearer <token>"',
  401,
);

/** A request failed its schema (body, query or params). */
export const ApiBadRequestError = define<[reason: string]>()(
  'PFM_ERR_API_BAD_REQUEST',
  'Bad request: %s',
  400,
);

/** An unexpected failure while serving a request (logged with its cause). */
export const ApiInternalError = define<[]>()(
  'PFM_ERR_API_INTERNAL',
  'Internal error; see the daemon log',
  500,
);

/** No such route or resource. */
export const ApiNotFoundError = define<[what: string]>()('PFM_ERR_API_NOT_FOUND', 'Not found: %s', 404);

/** Too many requests from one client. */
export const ApiRateLimitedError = define<[limit: number, window: string]>()(
  'PFM_ERR_API_RATE_LIMITED',
  'Rate limit exceeded: at most %d requests per %s',
  429,
);

/**
 * A /stream client over a cap (`api.stream.maxClients`, `api.stream.maxClientsPerAddress`). Sent as the
 * WebSocket close reason (`<code>: <message>`, within the 123 bytes a close frame allows) with close code
 * 1013, try again later.
 */
export const ApiStreamFullError = define<[scope: string, count: number, key: string]>()(
  'PFM_ERR_API_STREAM_FULL',
  'Too many /stream clients%s: %d (api.stream.%s)',
  503,
);

/** A part of the daemon failed to start. */
export const DaemonStartError = define<[part: string, reason: string]>()(
  'PFM_ERR_DAEMON_START',
  'Cannot start %s: %s',
  500,
);

/** A part of the daemon did not stop within its deadline. */
export const DaemonStopTimeoutError = define<[part: string, ms: number]>()(
  'PFM_ERR_DAEMON_STOP_TIMEOUT',
  '%s did not stop within %d ms',
  500,
);

/** The event loop could not be raised to real-time priority (logged, never thrown: it runs on as is). */
export const DaemonRealtimeError = define<[reason: string]>()(
  'PFM_ERR_DAEMON_REALTIME',
  'The event loop stays at normal priority: %s',
  500,
);

/** Readiness, status or a watchdog ping could not be sent to systemd (logged, never thrown). */
export const SystemdNotifyError = define<[what: string]>()('PFM_ERR_SYSTEMD_NOTIFY', '%s', 500);

/** The CLI could not reach the daemon's API, or the API answered with an error. */
export const CliRequestError = define<[url: string, reason: string]>()(
  'PFM_ERR_CLI_REQUEST',
  'Request to %s failed: %s',
  502,
);

/** An OSC packet that cannot be decoded: the reason names the byte offset and what was wrong. */
export const OscDecodeError = define<[reason: string]>()(
  'PFM_ERR_OSC_DECODE',
  'Malformed OSC packet: %s',
  400,
);

/** A message that cannot be encoded as OSC (bad address, argument of the wrong type or range). */
export const OscEncodeError = define<[reason: string]>()('PFM_ERR_OSC_ENCODE', 'Cannot encode OSC: %s', 500);

/** An OSC listener cannot bind (port in use, permission denied, address not on this machine). */
export const OscBindError = define<[what: string, reason: string]>()(
  'PFM_ERR_OSC_BIND',
  'OSC %s cannot listen: %s',
  500,
);

/** An OSC packet could not be sent to a target. */
export const OscSendError = define<[target: string, reason: string]>()(
  'PFM_ERR_OSC_SEND',
  'Cannot send OSC to %s: %s',
  500,
);

/**
 * An OSC TCP stream that cannot be read (issue #10): bytes that fit neither framing, a length prefix
 * over `osc.maxDatagramBytes`, a bad SLIP escape, a packet cut off by a close. Logged rate-limited with
 * the source; the reason says whether the connection was closed.
 */
export const OscFramingError = define<[source: string, reason: string]>()(
  'PFM_ERR_OSC_FRAMING',
  'OSC over TCP from %s: %s',
  400,
);

/** The kernel dropped datagrams for an OSC UDP listener: its receive buffer was full (issue #10). */
export const OscRecvDropsError = define<[count: number, listener: string, advice: string]>()(
  'PFM_ERR_OSC_RECV_DROPS',
  'The kernel dropped %d datagrams for OSC listener %s: its receive buffer was full (%s)',
  503,
);

/** An OSC route, output rule, target or address pattern in the config is unusable. */
export const OscConfigError = define<[reason: string]>()(
  'PFM_ERR_OSC_CONFIG',
  'Invalid OSC configuration: %s',
  400,
);

/** Malformed MIDI bytes or a malformed RTP-MIDI / AppleMIDI packet: the reason names what was wrong. */
export const MidiDecodeError = define<[reason: string]>()('PFM_ERR_MIDI_DECODE', 'Malformed MIDI: %s', 400);

/** A bus message that cannot become MIDI (a value out of range, a field missing). */
export const MidiEncodeError = define<[reason: string]>()(
  'PFM_ERR_MIDI_ENCODE',
  'Cannot encode MIDI: %s',
  500,
);

/** A MIDI port cannot be opened or listed (no MIDI subsystem, a device gone). */
export const MidiPortError = define<[port: string, reason: string]>()(
  'PFM_ERR_MIDI_PORT',
  'MIDI port %s unavailable: %s',
  503,
);

/** A network MIDI (RTP-MIDI) session cannot listen, was refused, or was lost. */
export const MidiSessionError = define<[session: string, reason: string]>()(
  'PFM_ERR_MIDI_SESSION',
  'Network MIDI session %s: %s',
  500,
);

/** A MIDI message could not be sent to a port or session (counted and logged, never thrown into the bus). */
export const MidiSendError = define<[output: string, reason: string]>()(
  'PFM_ERR_MIDI_SEND',
  'Cannot send MIDI to %s: %s',
  500,
);

/** A MIDI route, output rule, port or session in the config is unusable. */
export const MidiConfigError = define<[reason: string]>()(
  'PFM_ERR_MIDI_CONFIG',
  'Invalid MIDI configuration: %s',
  400,
);

/** An audio output device cannot be opened (none on the machine, a device id not found, the device busy). */
export const AudioDeviceError = define<[sink: string, reason: string]>()(
  'PFM_ERR_AUDIO_DEVICE',
  'Audio output %s cannot be opened: %s',
  503,
);

/**
 * The audio input cannot be listened to (issue #9): no input device (none on the machine, a device not
 * found, the device busy), a file input that cannot be read, or the listening process failed.
 */
export const AudioInputError = define<[input: string, reason: string]>()(
  'PFM_ERR_AUDIO_INPUT',
  'Audio input %s cannot be listened to: %s',
  503,
);

/** An offline render failed (bad render options, or the engine failed while rendering). */
export const AudioRenderError = define<[reason: string]>()(
  'PFM_ERR_AUDIO_RENDER',
  'Offline audio render failed: %s',
  500,
);

/** A WAV file cannot be written or read (I/O, or not a WAV file this project reads). */
export const AudioFileError = define<[file: string, reason: string]>()(
  'PFM_ERR_AUDIO_FILE',
  'WAV file %s: %s',
  400,
);

/** A chord symbol that cannot be read (config, `PUT /progression`, `progression_change`). */
export const AgentChordError = define<[symbol: string, reason: string]>()(
  'PFM_ERR_AGENT_CHORD',
  'Invalid chord symbol "%s": %s',
  400,
);

/** An agent setting that cannot work (a tempo out of range, an empty progression, a register too narrow). */
export const AgentConfigError = define<[reason: string]>()(
  'PFM_ERR_AGENT_CONFIG',
  'Invalid agent setting: %s',
  400,
);

/** All error constructors by code: the list README's error table is checked against. */
export const ERRORS = {
  PFM_ERR_BUS_INVALID_MESSAGE: BusInvalidMessageError,
  PFM_ERR_BUS_FULL: BusFullError,
  PFM_ERR_BUS_STOPPED: BusStoppedError,
  PFM_ERR_BUS_INVALID_OPTION: BusInvalidOptionError,
  PFM_ERR_BUS_HANDLER: BusHandlerError,
  PFM_ERR_CONFIG_INVALID: ConfigInvalidError,
  PFM_ERR_CONFIG_FILE: ConfigFileError,
  PFM_ERR_API_INSECURE_BIND: ApiInsecureBindError,
  PFM_ERR_API_LISTEN: ApiListenError,
  PFM_ERR_API_UNAUTHORIZED: ApiUnauthorizedError,
  PFM_ERR_API_BAD_REQUEST: ApiBadRequestError,
  PFM_ERR_API_INTERNAL: ApiInternalError,
  PFM_ERR_API_NOT_FOUND: ApiNotFoundError,
  PFM_ERR_API_RATE_LIMITED: ApiRateLimitedError,
  PFM_ERR_API_STREAM_FULL: ApiStreamFullError,
  PFM_ERR_DAEMON_START: DaemonStartError,
  PFM_ERR_DAEMON_STOP_TIMEOUT: DaemonStopTimeoutError,
  PFM_ERR_DAEMON_REALTIME: DaemonRealtimeError,
  PFM_ERR_SYSTEMD_NOTIFY: SystemdNotifyError,
  PFM_ERR_OSC_DECODE: OscDecodeError,
  PFM_ERR_OSC_ENCODE: OscEncodeError,
  PFM_ERR_OSC_BIND: OscBindError,
  PFM_ERR_OSC_SEND: OscSendError,
  PFM_ERR_OSC_FRAMING: OscFramingError,
  PFM_ERR_OSC_RECV_DROPS: OscRecvDropsError,
  PFM_ERR_OSC_CONFIG: OscConfigError,
  PFM_ERR_MIDI_DECODE: MidiDecodeError,
  PFM_ERR_MIDI_ENCODE: MidiEncodeError,
  PFM_ERR_MIDI_PORT: MidiPortError,
  PFM_ERR_MIDI_SESSION: MidiSessionError,
  PFM_ERR_MIDI_SEND: MidiSendError,
  PFM_ERR_MIDI_CONFIG: MidiConfigError,
  PFM_ERR_AUDIO_DEVICE: AudioDeviceError,
  PFM_ERR_AUDIO_INPUT: AudioInputError,
  PFM_ERR_AUDIO_RENDER: AudioRenderError,
  PFM_ERR_AUDIO_FILE: AudioFileError,
  PFM_ERR_AGENT_CHORD: AgentChordError,
  PFM_ERR_AGENT_CONFIG: AgentConfigError,
  PFM_ERR_CLI_REQUEST: CliRequestError,
} as const;

/** A Performia error code. */
export type ErrorCode = keyof typeof ERRORS;

/** True when `err` is an Error carrying the given Performia code. */
export function hasCode(err: unknown, code: ErrorCode): boolean {
  return err instanceof Error && (err as Error & { code?: unknown }).code === code;
}
