/**
 * The two inputs the listening process reads (issue #9, "Input"): an audio input device through
 * node-web-audio-api (`mediaDevices.getUserMedia` into a ScriptProcessorNode), and a WAV file played
 * in real time, block by block, as a device would deliver it. Each hands its blocks, one Float32Array
 * per channel, to `onBlock` with the bus time the block arrived.
 *
 * Runs only in the listening process (listen-host.ts): the audio stack prints on stdout (engine.ts).
 */
import { openWavReader, type WavReader } from '../wav-reader.js';
import { type AudioContext, type AudioNode, webAudio } from '../web-audio.js';
import { epochNow } from './clock.js';
import type { InputInfo, ListenOptions } from './protocol.js';

/** Receives each block and the bus time it arrived. */
export type BlockSink = (channels: Float32Array[], arrivalMs: number) => void;

/** An open input. */
export interface Input {
  readonly info: InputInfo;
  close(): Promise<void>;
}

/** An error that says the input itself is missing or unusable (not the process). */
export class InputMissing extends Error {}

interface MediaStream {
  getTracks?(): { stop(): void }[];
}
interface ScriptProcessorNode extends AudioNode {
  onaudioprocess:
    | ((event: {
        inputBuffer: { numberOfChannels: number; getChannelData(c: number): Float32Array };
      }) => void)
    | null;
}
interface InputAudio {
  AudioContext: new (
    options: Record<string, unknown>,
  ) => AudioContext & {
    createMediaStreamSource(stream: MediaStream): AudioNode;
    createScriptProcessor(bufferSize: number, inputs: number, outputs: number): ScriptProcessorNode;
  };
  mediaDevices: {
    enumerateDevices(): Promise<{ deviceId: string; kind: string; label: string }[]>;
    getUserMedia(constraints: unknown): Promise<MediaStream>;
  };
}

/**
 * The getUserMedia constraint for `device`: any input for 'default', else the input whose id is
 * `device` or whose label contains it (case-insensitive). Not found: an InputMissing naming the inputs.
 */
async function constraintFor(audio: InputAudio, device: string): Promise<{ audio: unknown; label: string }> {
  if (device === 'default') return { audio: true, label: 'default' };
  const inputs = (await audio.mediaDevices.enumerateDevices()).filter((d) => d.kind === 'audioinput');
  const wanted = device.toLowerCase();
  const found =
    inputs.find((d) => d.deviceId === device) ?? inputs.find((d) => d.label.toLowerCase().includes(wanted));
  if (found === undefined) {
    const known = inputs.map((d) => `${d.label} (${d.deviceId})`).join(', ') || 'none';
    throw new InputMissing(`no audio input matches "${device}"; inputs: ${known}`);
  }
  return { audio: { deviceId: { exact: found.deviceId } }, label: found.label };
}

/** A context to run the input in: on the default output, or on no output when there is none. */
function contextFor(audio: InputAudio): ReturnType<typeof newContext> {
  try {
    return newContext(audio, '');
  } catch {
    // No output device: an input can still be read on a context that renders to nothing.
    return newContext(audio, { type: 'none' });
  }
}

function newContext(audio: InputAudio, sinkId: string | { type: 'none' }) {
  return new audio.AudioContext({ latencyHint: 'interactive', sinkId });
}

/** Opens the input device of `options` and streams its blocks to `onBlock`. */
export async function openDevice(options: ListenOptions, onBlock: BlockSink): Promise<Input> {
  const audio = webAudio() as unknown as InputAudio;
  const { audio: constraint, label } = await constraintFor(audio, options.device);
  const context = contextFor(audio);
  let stream: MediaStream;
  try {
    stream = await audio.mediaDevices.getUserMedia({ audio: constraint });
  } catch (err) {
    // The open failed already: its reason is the one to report; the process ends after it anyway.
    await context.close().catch(() => {});
    // node-web-audio-api rejects with a plain Error (CONVENTIONS.md); its words name the cause
    // (`DeviceNotAvailable` when there is no input at all).
    throw new InputMissing(`no audio input device could be opened (${(err as Error).message})`);
  }
  const source = context.createMediaStreamSource(stream);
  const processor = context.createScriptProcessor(options.blockFrames, 2, 1);
  processor.onaudioprocess = (event) => {
    const arrival = epochNow();
    const buffer = event.inputBuffer;
    const channels: Float32Array[] = [];
    for (let c = 0; c < buffer.numberOfChannels; c++) channels.push(buffer.getChannelData(c));
    onBlock(channels, arrival);
  };
  source.connect(processor);
  // A ScriptProcessorNode is only pulled while connected to the destination; it outputs silence.
  processor.connect(context.destination);
  return {
    info: { source: 'device', name: label, sampleRate: context.sampleRate, channels: 2 },
    async close() {
      processor.onaudioprocess = null;
      for (const track of stream.getTracks?.() ?? []) track.stop();
      await context.close();
    },
  };
}

/**
 * Opens the WAV file of `options` and delivers its blocks when a device would: block n when its last
 * sample is due, on a timer (a late timer delivers late, as a held-up device callback would).
 */
export async function openFile(
  options: ListenOptions,
  onBlock: BlockSink,
  onEnd: (error?: string) => void,
): Promise<Input> {
  let reader: WavReader;
  try {
    reader = await openWavReader(options.file, { blockFrames: options.blockFrames });
  } catch (err) {
    throw new InputMissing((err as Error).message);
  }
  const { sampleRate, channelCount } = reader.info;
  const start = epochNow();
  let frames = 0;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  // A read that fails mid-file (a truncated data chunk, an I/O error) ends the input with its reason.
  const fail = (err: unknown): void => {
    if (!closed) onEnd((err as Error).message);
  };
  const next = async (): Promise<void> => {
    if (closed) return;
    let block = await reader.read();
    if (block === null && options.loop && frames > 0) {
      await reader.close();
      reader = await openWavReader(options.file, { blockFrames: options.blockFrames });
      block = await reader.read();
    }
    if (closed) return;
    if (block === null || block.length === 0) {
      onEnd();
      return;
    }
    frames += (block[0] as Float32Array).length;
    const due = start + (frames / sampleRate) * 1000;
    const deliver = (): void => {
      if (closed) return;
      // The block's sound "entered" when its last sample was due: that is its arrival for the stream
      // clock (exact, whatever a busy event loop did to the timer); the timer's lateness shows in the
      // latency measured after it, as a held-up device callback's would.
      onBlock(block, due);
      next().catch(fail);
    };
    const wait = due - epochNow();
    if (wait <= 0) deliver();
    else timer = setTimeout(deliver, wait);
  };
  next().catch(fail);
  return {
    info: { source: 'file', name: options.file, sampleRate, channels: channelCount },
    async close() {
      closed = true;
      clearTimeout(timer);
      await reader.close();
    },
  };
}
