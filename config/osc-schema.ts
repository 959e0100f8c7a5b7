/**
 * The `osc:` section of the config (issue #4): listeners (UDP, and TCP with OSC 1.0 length-prefix or
 * OSC 1.1 SLIP framing, issue #10), the source allow-list, routes (OSC in → bus message), targets and
 * outputs (bus message → OSC out), and presets. Rules that span several keys (exactly one source per
 * payload field, an output naming a target…) are in osc-rules.ts; the presets themselves in presets.ts.
 */
import Type from 'typebox';
import { PayloadFieldSchema } from './field-schema.js';
import './formats.js';

const closed = { additionalProperties: false } as const;

/** OSC 1.0/1.1 type tags. `T F N I` (true, false, nil, impulse) carry no data. */
export const OSC_TYPE_TAGS = [
  'i',
  'f',
  's',
  'S',
  'b',
  'h',
  't',
  'd',
  'c',
  'r',
  'm',
  'T',
  'F',
  'N',
  'I',
] as const;
/** The type tags whose argument carries no data: its tag is the whole value. */
export const OSC_DATALESS_TAGS: ReadonlySet<string> = new Set(['T', 'F', 'N', 'I']);
/** The names of the built-in presets (presets.ts holds them). */
export const OSC_PRESET_NAMES = ['abletonosc'] as const;
/** Bus priorities by name, as a route may set them. */
const PRIORITY_NAMES = ['CRITICAL', 'HIGH', 'NORMAL', 'LOW'] as const;

const host = (description: string, defaultHost?: string) =>
  Type.String({ minLength: 1, description, ...(defaultHost === undefined ? {} : { default: defaultHost }) });
const oscAddress = (description: string) => Type.String({ format: 'osc-address', description });
const messageType = (description: string) =>
  Type.String({ format: 'message-type', pattern: '^[A-Za-z0-9_.:/-]+$', description });
const jsonValue = (description: string) => Type.Unknown({ description });
const typeTag = Type.Enum(OSC_TYPE_TAGS, {
  description:
    'OSC type tag: i int32, f float32, s string, S symbol, b blob, h int64, t timetag, d double, c char, r RGBA color, m MIDI, T true, F false, N nil, I impulse.',
});

/** An extra UDP listener. */
const ListenerSchema = Type.Object(
  {
    host: host('Address to listen on.'),
    port: Type.Integer({ minimum: 0, maximum: 65535, description: 'UDP port; 0 picks a free port.' }),
  },
  { ...closed, description: 'One more UDP listener.' },
);

const TcpSchema = Type.Object(
  {
    enabled: Type.Boolean({ default: false, description: 'Listen for OSC over TCP too.' }),
    host: host('Address the TCP listener binds.', '127.0.0.1'),
    port: Type.Integer({
      minimum: 0,
      maximum: 65535,
      default: 57122,
      description: 'TCP port of the OSC listener; 0 picks a free port.',
    }),
    framing: Type.Enum(['auto', 'slip', 'length'], {
      default: 'auto',
      description:
        "How packets are delimited on each connection: auto tells from its first bytes (SLIP starts with END 0xC0, '/' or '#'; a length prefix with 0x00), slip is OSC 1.1 (TouchOSC, osc.js), length is OSC 1.0's int32 big-endian size before each packet (liblo, SuperCollider).",
    }),
  },
  {
    ...closed,
    default: {},
    description:
      'An OSC TCP listener, one stream per client, framed with SLIP (OSC 1.1) or a length prefix (OSC 1.0).',
  },
);

/** A route: an incoming OSC message → a bus message. The first route whose address matches wins. */
const RouteSchema = Type.Object(
  {
    address: oscAddress(
      'OSC address pattern the incoming message must match (OSC 1.0 patterns: * ? [ ] { }).',
    ),
    type: messageType('Bus message type to publish.'),
    priority: Type.Optional(
      Type.Enum(PRIORITY_NAMES, { description: "Priority of the message. Absent: the type's usual one." }),
    ),
    to: Type.Optional(
      Type.String({ minLength: 1, description: 'Agent the message is for. Absent: broadcast.' }),
    ),
    args: Type.Optional(
      Type.Array(Type.String({ minLength: 1 }), {
        description:
          'Names for the argument positions (first name = argument 0), so payload fields can take them by `name`.',
      }),
    ),
    payload: Type.Optional(
      Type.Record(Type.String(), PayloadFieldSchema, {
        description:
          'Payload fields by name. Absent: the named args as fields (with `args`), else { address, args }.',
      }),
    ),
    latch: Type.Optional(
      Type.Record(Type.String(), PayloadFieldSchema, {
        description:
          "Values to remember when this route matches, by name, for other routes' `latch` fields (e.g. the last tempo, for beats).",
      }),
    ),
  },
  { ...closed, description: 'Turns a matching incoming OSC message into a bus message.' },
);

/** An argument of a message sent once at start (no bus message to take values from). */
const StartArgSchema = Type.Object(
  {
    type: typeTag,
    value: Type.Optional(jsonValue('The value; required unless the type is T, F, N or I.')),
  },
  { ...closed, description: 'One argument of the message.' },
);

const StartMessageSchema = Type.Object(
  {
    address: oscAddress('OSC address of the message.'),
    args: Type.Optional(Type.Array(StartArgSchema, { description: 'Arguments, in order. Absent: none.' })),
  },
  { ...closed, description: 'A message sent to the target once, when the adapter starts.' },
);

const TargetSchema = Type.Object(
  {
    host: host('Host name or address of the receiver.'),
    port: Type.Integer({ minimum: 1, maximum: 65535, description: 'Port of the receiver.' }),
    protocol: Type.Enum(['udp', 'tcp'], {
      default: 'udp',
      description: 'udp, or tcp (one connection, packets framed as `framing` says).',
    }),
    framing: Type.Optional(
      Type.Enum(['slip', 'length'], {
        description:
          'TCP only: slip (OSC 1.1; TouchOSC, osc.js) or length (OSC 1.0 int32 size prefix; liblo programs, SuperCollider). Absent: slip.',
      }),
    ),
    timetags: Type.Boolean({
      default: false,
      description:
        'Send a message with a future `at` at once, as a bundle with that timetag; false holds it until due and sends it plain.',
    }),
    onStart: Type.Optional(
      Type.Array(StartMessageSchema, {
        description: 'Messages sent once when the adapter starts (e.g. listener requests). Absent: none.',
      }),
    ),
  },
  { ...closed, description: 'An OSC receiver that outputs send to.' },
);

/** An argument of an output message: taken from the bus message, or a constant. */
const OutputArgSchema = Type.Object(
  {
    type: typeTag,
    from: Type.Optional(
      Type.String({
        format: 'payload-path',
        description: 'Payload field to take the value from (`bpm`; dotted for nested: `note.value`).',
      }),
    ),
    value: Type.Optional(jsonValue('A constant value.')),
  },
  {
    ...closed,
    description: 'One argument: exactly one of from or value, neither for T, F, N and I.',
  },
);

/** An output: a bus message → an OSC message to a target. Every matching output sends. */
const OutputSchema = Type.Object(
  {
    type: messageType('Bus message type that triggers the output.'),
    where: Type.Optional(
      Type.Record(Type.String(), jsonValue('The value the payload field must equal.'), {
        description: 'Payload fields that must equal these values (all of them). Absent: every message.',
      }),
    ),
    target: Type.String({ minLength: 1, description: 'Name of the target (a key of `osc.targets`).' }),
    address: oscAddress('OSC address of the message sent.'),
    args: Type.Optional(Type.Array(OutputArgSchema, { description: 'Arguments, in order. Absent: none.' })),
  },
  { ...closed, description: 'Sends an OSC message for each bus message of a type.' },
);

/** The OSC adapter's section of the config. */
export const OscSchema = Type.Object(
  {
    enabled: Type.Boolean({
      default: true,
      description: 'Run the OSC adapter; false opens no socket and sends nothing.',
    }),
    listen: Type.Object(
      {
        host: Type.String({
          minLength: 1,
          default: '127.0.0.1',
          description: 'Address the OSC adapter listens on for incoming UDP packets.',
        }),
        port: Type.Integer({
          minimum: 0,
          maximum: 65535,
          default: 57121,
          description: 'UDP port the OSC adapter listens on; 0 picks a free port.',
        }),
      },
      { ...closed, default: {}, description: 'Where incoming OSC arrives.' },
    ),
    extraListen: Type.Array(ListenerSchema, {
      default: [],
      description: 'More UDP listeners, each with the same routes.',
    }),
    tcp: TcpSchema,
    recvBufferBytes: Type.Integer({
      minimum: 65536,
      maximum: 67108864,
      default: 4194304,
      description:
        'Receive buffer (SO_RCVBUF) requested per UDP socket, in bytes; the kernel may cap it (net.core.rmem_max).',
    }),
    maxDatagramBytes: Type.Integer({
      minimum: 64,
      maximum: 1048576,
      default: 65536,
      description:
        'Largest packet accepted (a UDP datagram, a SLIP frame, a length-prefixed TCP packet), in bytes; larger ones are dropped and counted (a length prefix over it also closes its connection).',
    }),
    maxBundleDepth: Type.Integer({
      minimum: 1,
      maximum: 64,
      default: 8,
      description: 'Deepest nesting of bundles accepted; a deeper packet is dropped and counted.',
    }),
    allow: Type.Array(Type.String({ format: 'cidr' }), {
      default: [],
      description:
        'Sources allowed to send (IPv4/IPv6 addresses or CIDR blocks); packets from others are dropped and counted. Empty: any source.',
    }),
    onBindError: Type.Enum(['degrade', 'fail'], {
      default: 'degrade',
      description:
        'A listener that cannot bind: degrade runs without it and retries every `retryMs`; fail stops the daemon from starting.',
    }),
    retryMs: Type.Integer({
      minimum: 100,
      maximum: 600000,
      default: 5000,
      description: 'Time between two attempts to bind a listener that could not bind, in milliseconds.',
    }),
    presets: Type.Array(Type.Enum(OSC_PRESET_NAMES), {
      default: [],
      description:
        'Built-in presets merged into routes, targets, outputs and listeners (after your own): abletonosc.',
    }),
    routes: Type.Array(RouteSchema, {
      default: [],
      description: 'Incoming OSC → bus messages. The first route matching an address wins; unrouted: osc_in.',
    }),
    targets: Type.Record(Type.String(), TargetSchema, {
      default: {},
      description: 'OSC receivers by name, for outputs.',
    }),
    outputs: Type.Array(OutputSchema, {
      default: [],
      description: 'Bus messages → outgoing OSC. Every output matching a message sends.',
    }),
  },
  { ...closed, default: {}, description: 'The OSC adapter.' },
);

/** The OSC adapter's config. */
export type OscConfig = Type.Static<typeof OscSchema>;
/** A UDP listener: `osc.listen` and each of `osc.extraListen`. */
export type OscListenerConfig = Type.Static<typeof ListenerSchema>;
/** The OSC TCP listener. */
export type OscTcpConfig = Type.Static<typeof TcpSchema>;
/** A route: incoming OSC → bus message. */
export type OscRouteConfig = Type.Static<typeof RouteSchema>;
/** One payload field of a route (the shared field engine's, config/field-schema.ts). */
export type OscPayloadFieldConfig = Type.Static<typeof PayloadFieldSchema>;
/** An OSC receiver. */
export type OscTargetConfig = Type.Static<typeof TargetSchema>;
/** A message sent to a target when the adapter starts. */
export type OscStartMessageConfig = Type.Static<typeof StartMessageSchema>;
/** An argument of a start message. */
export type OscStartArgConfig = Type.Static<typeof StartArgSchema>;
/** An output: bus message → outgoing OSC. */
export type OscOutputConfig = Type.Static<typeof OutputSchema>;
/** An argument of an output message. */
export type OscOutputArgConfig = Type.Static<typeof OutputArgSchema>;
/** An OSC type tag. */
export type OscTypeTag = (typeof OSC_TYPE_TAGS)[number];
/** The name of a built-in preset. */
export type OscPresetName = (typeof OSC_PRESET_NAMES)[number];
