/** The band's voices alive (scheduled or sounding), by end time: the cap counts them, panic stops them. */
import type { Voice } from './voice.js';

/** A voice as the band keeps it: what was built, and when it starts. */
export interface LiveVoice extends Voice {
  readonly start: number;
}

/** A heap of voices by end time: the earliest to end on top. */
export class VoiceHeap {
  private readonly h: LiveVoice[] = [];
  get size(): number {
    return this.h.length;
  }
  all(): readonly LiveVoice[] {
    return this.h;
  }
  clear(): void {
    this.h.length = 0;
  }
  push(v: LiveVoice): void {
    const h = this.h;
    h.push(v);
    for (let i = h.length - 1; i > 0; ) {
      const p = (i - 1) >> 1;
      if (h[p]!.end <= h[i]!.end) break;
      [h[p], h[i]] = [h[i]!, h[p]!];
      i = p;
    }
  }
  /** Drops the voices that ended by `time`. */
  prune(time: number): void {
    const h = this.h;
    while (h.length > 0 && h[0]!.end <= time) {
      const last = h.pop()!;
      if (h.length === 0) break;
      h[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        let m = i;
        if (l < h.length && h[l]!.end < h[m]!.end) m = l;
        if (l + 1 < h.length && h[l + 1]!.end < h[m]!.end) m = l + 1;
        if (m === i) break;
        [h[m], h[i]] = [h[i]!, h[m]!];
        i = m;
      }
    }
  }
}
