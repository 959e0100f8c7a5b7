import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERRORS } from '../../daemon/kernel/errors.js';
import { projectRoot, sourceFiles } from '../helpers/layering.js';

const root = projectRoot();
type AnyCtor = new (...args: unknown[]) => Error & { code: string; statusCode?: number };
const constructors = Object.entries(ERRORS) as [string, AnyCtor][];

/** Rows of README's error table: | `PFM_ERR_…` | status | meaning | */
function readmeTable(): Map<string, number> {
  const rows = new Map<string, number>();
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  for (const m of readme.matchAll(/^\|\s*`(PFM_ERR_[A-Z_]+)`\s*\|\s*(\d{3})\s*\|/gm)) {
    rows.set(m[1] as string, Number(m[2]));
  }
  return rows;
}

describe('error codes', () => {
  it('are all of the form PFM_ERR_<AREA>_<WHAT> and match their constructors', () => {
    for (const [code, Ctor] of constructors) {
      expect(code).toMatch(/^PFM_ERR_[A-Z]+_[A-Z_]+$/);
      const err = new Ctor('a', 'b', 1);
      expect(err.code).toBe(code);
      expect(err).toBeInstanceOf(Error);
    }
  });

  it('carry the original error as cause', () => {
    const cause = new Error('EADDRINUSE');
    const err = new ERRORS.PFM_ERR_BUS_INVALID_OPTION('x', { cause });
    expect(err.cause).toBe(cause);
  });

  it('are listed in README with their HTTP status, and README lists no other', () => {
    const table = readmeTable();
    expect([...table.keys()].sort()).toEqual(Object.keys(ERRORS).sort());
    for (const [code, Ctor] of constructors) expect(table.get(code)).toBe(new Ctor('a', 'b', 1).statusCode);
  });

  it('used anywhere in the sources are defined in daemon/kernel/errors.ts', () => {
    const defined = new Set(Object.keys(ERRORS));
    for (const file of sourceFiles(root, ['daemon', 'adapters', 'agents', 'config'])) {
      const src = readFileSync(join(root, file), 'utf8');
      for (const m of src.matchAll(/PFM_ERR_[A-Z_]+[A-Z]/g)) {
        expect(defined.has(m[0]), `${file} uses ${m[0]}`).toBe(true);
      }
    }
  });
});
