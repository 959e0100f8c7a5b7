// An AudioWorkletProcessor (runs in node-web-audio-api's worklet thread) that watches its input and
// posts, on the audio clock, where sound starts and where it stops: { kind: 'onset' | 'silence',
// frame } with `frame` the context's frame number of the first sample at or above -120 dBFS (or the
// first below it). A stretch of at least `quietFrames` samples below it separates two sounds (a
// threshold, not zero: filters ring down toward zero for a long time).
class OnsetProcessor extends AudioWorkletProcessor {
  constructor(options) {
    super(options);
    this.quietFrames = options?.processorOptions?.quietFrames ?? 480;
    this.zeros = this.quietFrames;
    this.sounding = false;
    this.silentFrom = 0;
  }

  process(inputs) {
    const channel = inputs[0]?.[0];
    const base = Number(currentFrame);
    const length = channel?.length ?? 128;
    for (let i = 0; i < length; i++) {
      const x = channel === undefined ? 0 : channel[i];
      const quiet = Math.abs(x) < 1e-6;
      if (!quiet) {
        if (!this.sounding && this.zeros >= this.quietFrames) {
          this.port.postMessage({ kind: 'onset', frame: base + i });
        }
        this.sounding = true;
        this.zeros = 0;
      } else {
        if (this.zeros === 0) this.silentFrom = base + i;
        this.zeros++;
        if (this.sounding && this.zeros === this.quietFrames) {
          this.sounding = false;
          this.port.postMessage({ kind: 'silence', frame: this.silentFrom });
        }
      }
    }
    return true;
  }
}

registerProcessor('onset-processor', OnsetProcessor);
