/**
 * CPU time used by the calling thread, in ms: what the scheduler needs to tell "our own code kept the
 * event loop busy" from "the machine did not let us run". On Linux it reads the thread's own
 * `/proc/thread-self/schedstat` (first field: ns on the CPU) through a file kept open, ~2 µs a read;
 * elsewhere, or when the file is missing, the whole process's CPU time (`process.cpuUsage`), which
 * also counts V8's background threads and so credits the machine with less.
 */
import { closeSync, openSync, readSync } from 'node:fs';

export interface ThreadCpuClock {
  /** CPU time of this thread (or process) so far, ms. */
  read(): number;
  close(): void;
}

export function threadCpuClock(): ThreadCpuClock {
  let fd: number | undefined;
  try {
    fd = openSync('/proc/thread-self/schedstat', 'r');
  } catch {
    fd = undefined;
  }
  const buf = Buffer.alloc(96);
  const processCpu = (): number => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  return {
    read(): number {
      if (fd === undefined) return processCpu();
      try {
        const n = readSync(fd, buf, 0, buf.length, 0);
        const space = buf.indexOf(32);
        const ns = Number(buf.toString('latin1', 0, space > 0 && space < n ? space : n));
        return Number.isFinite(ns) ? ns / 1e6 : processCpu();
      } catch {
        return processCpu();
      }
    },
    close(): void {
      if (fd === undefined) return;
      try {
        closeSync(fd);
      } catch {
        // already closed
      }
      fd = undefined;
    },
  };
}
