/**
 * The `midi:` section of the config (issue #7): OS MIDI ports (easymidi), network MIDI sessions
 * (RTP-MIDI / AppleMIDI), routes (MIDI in → bus message, the shared field engine), outputs (bus
 * message → MIDI out), the drum map, and MIDI clock in and out. Rules across keys (an output naming an
 * endpoint that exists, a route's field names) are in midi-rules.ts.
 */
import Type from 'typebox';
import { PayloadFieldSchema } from './field-schema.js';
import './formats.js';

const closed = { additionalProperties: false } as const;
const PRIORITY_NAMES = ['CRITICAL', 'HIGH', 'NORMAL', 'LOW'] as const;

/** MIDI message kinds, as routes match them and `midi_in` names them. */
export const MIDI_KIND_NAMES = [
  'noteoff',
  'noteon',
  'polyaftertouch',
  'cc',
  'program',
  'channelaftertouch',
  'pitchbend',
  'sysex',
  'mtc',
  'songposition',
  'songselect',
  'tunerequest',
  'clock',
  'start',
  'continue',
  'stop',
  'activesensing',
  'reset',
] as const;

/** What an output rule sends for each bus message it takes. */
export const MIDI_SEND_KINDS = [
  'note',
  'chord',
  'drums',
  'noteon',
  'noteoff',
  'cc',
  'program',
  'pitchbend',
  'channelaftertouch',
  'sysex',
  'tempo',
] as const;

const seven = (description: string) => Type.Integer({ minimum: 0, maximum: 127, description });
const range = (description: string) =>
  Type.Tuple([seven('Lowest value matched.'), seven('Highest value matched.')], { description });

/** A port chosen by its name: names and indexes change when a device is replugged. */
const PortMatchSchema = Type.Object(
  {
    name: Type.String({
      minLength: 1,
      description: 'The port name to look for (as `performia ports` lists it).',
    }),
    match: Type.Enum(['exact', 'substring', 'regex'], {
      default: 'substring',
      description:
        'How `name` is compared with the OS port names: the whole name, a part of it (case-insensitive), or a regular expression.',
    }),
  },
  { ...closed, description: 'A MIDI port of the operating system, found by name.' },
);

const PortsSchema = Type.Object(
  {
    enabled: Type.Boolean({
      default: true,
      description: "Use the operating system's MIDI ports (ALSA, CoreMIDI, WinMM) through easymidi.",
    }),
    pollMs: Type.Integer({
      minimum: 100,
      maximum: 60000,
      default: 2000,
      description:
        'How often the port list is read for hotplug (RtMidi sends no events): a port that disappears is marked disconnected, one that comes back is reopened.',
    }),
    virtual: Type.Object(
      {
        enabled: Type.Boolean({
          default: true,
          description: 'Create virtual ports (Linux, macOS) so a DAW sees Performia as a MIDI device.',
        }),
        input: Type.String({
          minLength: 1,
          default: 'Performia In',
          description: 'Name of the virtual input port.',
        }),
        output: Type.String({
          minLength: 1,
          default: 'Performia Out',
          description: 'Name of the virtual output port.',
        }),
      },
      { ...closed, default: {}, description: "Performia's own virtual ports (endpoint id `virtual`)." },
    ),
    inputs: Type.Record(Type.String({ pattern: '^[A-Za-z0-9_-]+$' }), PortMatchSchema, {
      default: {},
      description:
        'Input ports to open, by endpoint id (routes name them in `from`). A port missing at start is waited for.',
    }),
    outputs: Type.Record(Type.String({ pattern: '^[A-Za-z0-9_-]+$' }), PortMatchSchema, {
      default: {},
      description: 'Output ports to open, by endpoint id (outputs name them in `to`).',
    }),
  },
  { ...closed, default: {}, description: 'Operating-system MIDI ports.' },
);

const PeerSchema = Type.Object(
  {
    host: Type.String({ minLength: 1, description: 'Host name or address of the peer.' }),
    port: Type.Integer({
      minimum: 1,
      maximum: 65534,
      default: 5004,
      description: "The peer's control port (its data port is the next one).",
    }),
  },
  { ...closed, description: 'A network MIDI peer Performia invites (it is the initiator).' },
);

const NetworkSchema = Type.Object(
  {
    enabled: Type.Boolean({
      default: true,
      description:
        'Network MIDI (RTP-MIDI / AppleMIDI): sessions with macOS, rtpMIDI on Windows, and others.',
    }),
    name: Type.String({ minLength: 1, default: 'Performia', description: 'The session name peers see.' }),
    host: Type.String({
      minLength: 1,
      default: '127.0.0.1',
      description: 'Address the session listener binds; 0.0.0.0 to take sessions from the LAN.',
    }),
    port: Type.Integer({
      minimum: 0,
      maximum: 65534,
      default: 5004,
      description:
        'Control port of the session listener; the data port is the next one. 0 picks a free pair.',
    }),
    allow: Type.Array(Type.String({ format: 'cidr' }), {
      default: [],
      description:
        'Peers allowed to join or send (addresses or CIDR blocks); others are refused and counted. Empty: any.',
    }),
    maxSessions: Type.Integer({
      minimum: 1,
      maximum: 256,
      default: 16,
      description: 'Sessions at most; an invitation beyond it is refused (NO).',
    }),
    timeoutMs: Type.Integer({
      minimum: 1000,
      maximum: 600000,
      default: 30000,
      description:
        'A session that sends nothing (not even clock sync) for this long is dropped; a peer Performia invited is invited again.',
    }),
    syncIntervalMs: Type.Integer({
      minimum: 500,
      maximum: 60000,
      default: 10000,
      description: 'Clock synchronisation (CK) interval of the sessions Performia initiated.',
    }),
    peers: Type.Record(Type.String({ pattern: '^[A-Za-z0-9_-]+$' }), PeerSchema, {
      default: {},
      description: 'Peers to invite, by endpoint id; a lost one is invited again.',
    }),
  },
  { ...closed, default: {}, description: 'Network MIDI sessions (endpoint id `network` for all of them).' },
);

/** A route: an incoming MIDI message → a bus message. The first matching route wins. */
const RouteSchema = Type.Object(
  {
    from: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          'Endpoint the message must come from: a port id, `virtual`, `network`, or a peer id. Absent: any.',
      }),
    ),
    kind: Type.Enum(MIDI_KIND_NAMES, { description: 'The MIDI message kind to match.' }),
    channel: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 16, description: 'Channel 1..16. Absent: any.' }),
    ),
    note: Type.Optional(range('Note range [low, high] (note kinds). Absent: any.')),
    controller: Type.Optional(range('Controller range [low, high] (cc). Absent: any.')),
    type: Type.String({
      format: 'message-type',
      pattern: '^[A-Za-z0-9_.:/-]+$',
      description: 'Bus message type to publish.',
    }),
    priority: Type.Optional(
      Type.Enum(PRIORITY_NAMES, { description: "Priority of the message. Absent: the type's usual one." }),
    ),
    to: Type.Optional(
      Type.String({ minLength: 1, description: 'Agent the message is for. Absent: broadcast.' }),
    ),
    payload: Type.Optional(
      Type.Record(Type.String(), PayloadFieldSchema, {
        description:
          "Payload fields by name; `name` takes a field of the MIDI message (channel, note, velocity, controller, value, program, pressure, beats, song, data, port). Absent: the message's fields.",
      }),
    ),
    latch: Type.Optional(
      Type.Record(Type.String(), PayloadFieldSchema, {
        description: "Values to remember when this route matches, for other routes' `latch` fields.",
      }),
    ),
  },
  { ...closed, description: 'Turns a matching incoming MIDI message into a bus message.' },
);

/** A field of an output's MIDI message: from the bus payload, or a constant. */
const OutputFieldSchema = Type.Object(
  {
    from: Type.Optional(
      Type.String({ format: 'payload-path', description: 'Payload field to take the value from.' }),
    ),
    value: Type.Optional(Type.Unknown({ description: 'A constant value.' })),
  },
  { ...closed, description: 'Exactly one of from or value.' },
);

/** An output: a bus message → MIDI out. Every matching output sends. */
const OutputSchema = Type.Object(
  {
    type: Type.String({
      format: 'message-type',
      pattern: '^[A-Za-z0-9_.:/-]+$',
      description: 'Bus message type that triggers the output.',
    }),
    where: Type.Optional(
      Type.Record(Type.String(), Type.Unknown({ description: 'The value the payload field must equal.' }), {
        description: 'Payload fields that must equal these values (all of them). Absent: every message.',
      }),
    ),
    to: Type.Optional(
      Type.Array(Type.String({ minLength: 1 }), {
        description:
          'Endpoint ids to send to (output port ids, `virtual`, `network`, peer ids). Absent: every output.',
      }),
    ),
    send: Type.Enum(MIDI_SEND_KINDS, {
      description:
        'note: note on now or at `at`, note off after `duration` s; chord: the same for each of `notes`; drums: `hits` through the drum map; noteon, noteoff, cc, program, pitchbend, channelaftertouch, sysex (`data`: bytes); tempo: the clock out follows `bpm`.',
    }),
    fields: Type.Optional(
      Type.Record(Type.String(), OutputFieldSchema, {
        description:
          'Where each MIDI field comes from (channel, note, notes, velocity, duration, controller, value, program, pressure, hits, data, bpm). Absent: the payload field of the same name.',
      }),
    ),
  },
  { ...closed, description: 'Sends MIDI for each bus message of a type.' },
);

const ClockSchema = Type.Object(
  {
    in: Type.Object(
      {
        enabled: Type.Boolean({
          default: true,
          description: 'Follow an incoming MIDI clock (24 ppqn): tempo_change and transport messages.',
        }),
        from: Type.Optional(
          Type.String({
            minLength: 1,
            description: 'Endpoint id the clock comes from. Absent: whichever sends one.',
          }),
        ),
        tempoStep: Type.Number({
          exclusiveMinimum: 0,
          default: 0.5,
          description: 'Publish tempo_change when the followed tempo moves by more than this many BPM.',
        }),
      },
      { ...closed, default: {}, description: 'MIDI clock in.' },
    ),
    out: Type.Object(
      {
        to: Type.Array(Type.String({ minLength: 1 }), {
          default: [],
          description: 'Endpoint ids that get MIDI clock (24 ppqn) and start/stop. Empty: no clock out.',
        }),
        bpm: Type.Number({
          minimum: 20,
          maximum: 400,
          default: 120,
          description: 'Tempo of the clock out until a tempo_change message sets another.',
        }),
        mode: Type.Enum(['transport', 'always'], {
          default: 'transport',
          description:
            'transport: the clock out starts and stops with `transport` messages (start/stop sent too); always: it runs from start.',
        }),
      },
      { ...closed, default: {}, description: 'MIDI clock out, on an absolute schedule.' },
    ),
  },
  { ...closed, default: {}, description: 'MIDI clock, both ways.' },
);

/** General MIDI percussion (GM1 Sound Set, channel 10): the drum names the band uses. */
const GM_DRUMS = {
  kick: 36,
  rim: 37,
  snare: 38,
  clap: 39,
  hat: 42,
  hihat: 42,
  pedalhat: 44,
  openhat: 46,
  tom: 45,
  lowtom: 41,
  midtom: 47,
  hightom: 50,
  crash: 49,
  ride: 51,
  cowbell: 56,
};

/** The MIDI adapter's section of the config. */
export const MidiSchema = Type.Object(
  {
    enabled: Type.Boolean({
      default: true,
      description: 'Run the MIDI adapter; false opens no port or socket.',
    }),
    ports: PortsSchema,
    network: NetworkSchema,
    maxSysexBytes: Type.Integer({
      minimum: 16,
      maximum: 16777216,
      default: 65536,
      description: 'Largest SysEx message accepted; a longer one is dropped and counted.',
    }),
    routes: Type.Array(RouteSchema, {
      default: [],
      description: 'Incoming MIDI → bus messages. The first route matching wins; unrouted: midi_in.',
    }),
    outputs: Type.Array(OutputSchema, {
      default: [],
      description: 'Bus messages → outgoing MIDI. Every output matching a message sends.',
    }),
    drumMap: Type.Record(Type.String({ minLength: 1 }), seven('MIDI note of the drum.'), {
      default: GM_DRUMS,
      description: 'Drum names (the `hits` of play_drums) to MIDI notes; General MIDI by default.',
    }),
    drumChannel: Type.Integer({
      minimum: 1,
      maximum: 16,
      default: 10,
      description: 'Channel of drum notes (General MIDI: 10).',
    }),
    clock: ClockSchema,
  },
  {
    ...closed,
    default: {},
    description: 'The MIDI adapter: OS ports, network sessions, routes, outputs, clock.',
  },
);

/** The MIDI adapter's config. */
export type MidiConfig = Type.Static<typeof MidiSchema>;
/** A route: incoming MIDI → bus message. */
export type MidiRouteConfig = Type.Static<typeof RouteSchema>;
/** An output: bus message → outgoing MIDI. */
export type MidiOutputConfig = Type.Static<typeof OutputSchema>;
/** A port found by name. */
export type MidiPortMatchConfig = Type.Static<typeof PortMatchSchema>;
/** A peer to invite. */
export type MidiPeerConfig = Type.Static<typeof PeerSchema>;
