/**
 * Rules of the `listen:` section that span keys (issue #9): each range's low end below its high end,
 * as the analyzer requires; a pitch range the analysis window can hold. The schema walk (problems.ts)
 * reports values of the wrong shape; these rules look only at numbers.
 */
import { type ConfigProblem, isPlainObject, problemAt } from './problems.js';

/** Pairs `[section, low key, high key, unit]` whose low must be below their high. */
const RANGES = [
  ['pitch', 'minHz', 'maxHz', 'Hz'],
  ['tempo', 'minBpm', 'maxBpm', 'BPM'],
] as const;

/** The problems of `config.listen` beyond its schema. */
export function findListenProblems(config: unknown): ConfigProblem[] {
  if (!isPlainObject(config) || !isPlainObject(config.listen)) return [];
  const problems: ConfigProblem[] = [];
  for (const [section, lowKey, highKey, unit] of RANGES) {
    const part = config.listen[section];
    if (!isPlainObject(part)) continue;
    const low = part[lowKey];
    const high = part[highKey];
    if (typeof low !== 'number' || typeof high !== 'number' || low < high) continue;
    problems.push(
      problemAt(
        ['listen', section, lowKey],
        low,
        `less than listen.${section}.${highKey} (${high})`,
        `must be below listen.${section}.${highKey} (${high} ${unit}), got ${low} ${unit}`,
      ),
    );
  }
  return problems;
}
