/**
 * node-web-audio-api, loaded with the few Web Audio types this adapter uses.
 *
 * Why not `import … from 'node-web-audio-api'`: its type declarations start with
 * `/// <reference lib="dom" />`, which would pull the whole DOM library (window, document, DOM
 * timers…) into every file of the project's type check. The package is loaded through `require`
 * (it ships a CommonJS entry) and typed by the interfaces below: a subset of the Web Audio API spec
 * (https://www.w3.org/TR/webaudio/), as node-web-audio-api 1.0 implements it.
 */
import { createRequire } from 'node:module';

/** An a-rate or k-rate parameter with its automation events (Web Audio §1.6). */
export interface AudioParam {
  value: number;
  readonly defaultValue: number;
  setValueAtTime(value: number, time: number): AudioParam;
  linearRampToValueAtTime(value: number, time: number): AudioParam;
  exponentialRampToValueAtTime(value: number, time: number): AudioParam;
  setTargetAtTime(target: number, time: number, timeConstant: number): AudioParam;
  cancelScheduledValues(time: number): AudioParam;
}

/** Any node of the graph. */
export interface AudioNode {
  readonly context: BaseAudioContext;
  readonly numberOfInputs: number;
  readonly numberOfOutputs: number;
  connect(destination: AudioNode, output?: number, input?: number): AudioNode;
  connect(destination: AudioParam, output?: number): void;
  disconnect(): void;
  disconnect(destination: AudioNode): void;
}

/** A source that starts and stops at times on the context's clock. */
export interface AudioScheduledSourceNode extends AudioNode {
  start(when?: number): void;
  stop(when?: number): void;
  onended: ((event: unknown) => void) | null;
}

export interface GainNode extends AudioNode {
  readonly gain: AudioParam;
}

export type OscillatorType = 'sine' | 'square' | 'sawtooth' | 'triangle';

export interface OscillatorNode extends AudioScheduledSourceNode {
  type: OscillatorType;
  readonly frequency: AudioParam;
  readonly detune: AudioParam;
}

export type BiquadFilterType =
  | 'lowpass'
  | 'highpass'
  | 'bandpass'
  | 'lowshelf'
  | 'highshelf'
  | 'peaking'
  | 'notch'
  | 'allpass';

export interface BiquadFilterNode extends AudioNode {
  type: BiquadFilterType;
  readonly frequency: AudioParam;
  readonly Q: AudioParam;
  readonly gain: AudioParam;
}

export interface AudioBuffer {
  readonly sampleRate: number;
  readonly length: number;
  readonly duration: number;
  readonly numberOfChannels: number;
  /** A copy of the channel's samples (a new array on every call in node-web-audio-api). */
  getChannelData(channel: number): Float32Array;
  /** Copies the channel's samples from `bufferOffset` on into `destination` (as many as fit). */
  copyFromChannel(destination: Float32Array, channel: number, bufferOffset?: number): void;
  copyToChannel(source: Float32Array, channel: number, bufferOffset?: number): void;
}

export interface AudioBufferSourceNode extends AudioScheduledSourceNode {
  buffer: AudioBuffer | null;
  loop: boolean;
  readonly playbackRate: AudioParam;
  start(when?: number, offset?: number, duration?: number): void;
}

export interface ConstantSourceNode extends AudioScheduledSourceNode {
  readonly offset: AudioParam;
}

export interface DynamicsCompressorNode extends AudioNode {
  readonly threshold: AudioParam;
  readonly knee: AudioParam;
  readonly ratio: AudioParam;
  readonly attack: AudioParam;
  readonly release: AudioParam;
  readonly reduction: number;
}

export interface WaveShaperNode extends AudioNode {
  curve: Float32Array | null;
  oversample: 'none' | '2x' | '4x';
}

export interface StereoPannerNode extends AudioNode {
  readonly pan: AudioParam;
}

export interface ChannelMergerNode extends AudioNode {}

export interface AudioDestinationNode extends AudioNode {
  readonly maxChannelCount: number;
}

/** What real-time and offline contexts share (Web Audio §1.1). */
export interface BaseAudioContext {
  readonly currentTime: number;
  readonly sampleRate: number;
  readonly destination: AudioDestinationNode;
  readonly state: 'suspended' | 'running' | 'closed';
  createGain(): GainNode;
  createOscillator(): OscillatorNode;
  createBiquadFilter(): BiquadFilterNode;
  createBuffer(numberOfChannels: number, length: number, sampleRate: number): AudioBuffer;
  createBufferSource(): AudioBufferSourceNode;
  createConstantSource(): ConstantSourceNode;
  createDynamicsCompressor(): DynamicsCompressorNode;
  createWaveShaper(): WaveShaperNode;
  createStereoPanner(): StereoPannerNode;
  createChannelMerger(numberOfInputs?: number): ChannelMergerNode;
  readonly audioWorklet: { addModule(path: string): Promise<void> };
}

/** A node running an AudioWorkletProcessor (in a worker thread). */
export interface AudioWorkletNode extends AudioNode {
  readonly port: { onmessage: ((event: { data: unknown }) => void) | null; postMessage(data: unknown): void };
}

/** `latencyHint` of an AudioContext: a category or seconds. */
export type LatencyHint = 'interactive' | 'balanced' | 'playback' | number;

export interface AudioContextOptions {
  latencyHint?: LatencyHint;
  sampleRate?: number;
  /** A device id from `mediaDevices.enumerateDevices()`, `''` for the default device, or `{ type: 'none' }`. */
  sinkId?: string | { type: 'none' };
}

/** A context on an output device (or on no device: `sinkId: { type: 'none' }`). */
export interface AudioContext extends BaseAudioContext {
  readonly baseLatency: number;
  readonly outputLatency: number;
  resume(): Promise<void>;
  suspend(): Promise<void>;
  close(): Promise<void>;
}

export interface OfflineAudioContext extends BaseAudioContext {
  readonly length: number;
  startRendering(): Promise<AudioBuffer>;
}

/** One device of `mediaDevices.enumerateDevices()`. */
export interface MediaDeviceInfo {
  readonly deviceId: string;
  readonly kind: 'audioinput' | 'audiooutput' | 'videoinput';
  readonly label: string;
}

/** The parts of the module this project uses. */
export interface WebAudioModule {
  AudioContext: new (options?: AudioContextOptions) => AudioContext;
  OfflineAudioContext: new (options: {
    numberOfChannels?: number;
    length: number;
    sampleRate: number;
  }) => OfflineAudioContext;
  mediaDevices: { enumerateDevices(): Promise<MediaDeviceInfo[]> };
  AudioWorkletNode: new (
    context: BaseAudioContext,
    name: string,
    options?: { numberOfInputs?: number; numberOfOutputs?: number; processorOptions?: unknown },
  ) => AudioWorkletNode;
}

let loaded: WebAudioModule | undefined;

/** node-web-audio-api, loaded on first use (its native addon is ~10 MB: only processes that play load it). */
export function webAudio(): WebAudioModule {
  loaded ??= createRequire(import.meta.url)('node-web-audio-api') as WebAudioModule;
  return loaded;
}
