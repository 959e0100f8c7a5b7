import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';

/** Temporary config files for one test file; every one is removed after each test. */
export function useTempFiles(): { write(name: string, text: string): string; dir(): string } {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  const dir = (): string => {
    const d = mkdtempSync(join(tmpdir(), 'performia-config-'));
    dirs.push(d);
    return d;
  };
  return {
    dir,
    write(name, text) {
      const file = join(dir(), name);
      writeFileSync(file, text);
      return file;
    },
  };
}
