/**
 * A child process's stdout and stderr, read line by line: each line goes to `onLine` (the parent logs
 * it at debug), and the last few are kept to explain a failure. The audio engine's and the listening
 * process's output both go this way, so what the audio stack prints (cpal's JACK probe, ALSA) never
 * reaches the daemon's stdout.
 */
import type { ChildProcess } from 'node:child_process';

/** Lines of the child's output kept to explain a failure. */
const KEEP_LINES = 20;

export class ChildLines {
  private readonly lines: string[] = [];

  constructor(
    child: ChildProcess,
    private readonly onLine: (stream: 'stdout' | 'stderr', line: string) => void,
  ) {
    for (const [stream, source] of [
      ['stdout', child.stdout],
      ['stderr', child.stderr],
    ] as const) {
      let rest = '';
      source?.setEncoding('utf8');
      source?.on('data', (chunk: string) => {
        const parts = (rest + chunk).split('\n');
        rest = parts.pop() ?? '';
        for (const line of parts) this.line(stream, line);
      });
      source?.on('end', () => {
        if (rest !== '') this.line(stream, rest);
      });
    }
  }

  /** The last `n` lines, joined with ` | `, or `none`. */
  tail(n = 3): string {
    return this.lines.slice(-n).join(' | ') || 'none';
  }

  private line(stream: 'stdout' | 'stderr', line: string): void {
    if (line.trim() === '') return;
    this.lines.push(line);
    if (this.lines.length > KEEP_LINES) this.lines.shift();
    this.onLine(stream, line);
  }
}
