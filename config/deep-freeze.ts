/**
 * Deep freezing (CONVENTIONS.md, "Logging and config": config is loaded once, validated, frozen and
 * injected), so no part can change the config another part also reads.
 */

/**
 * Freezes `value` and everything reachable from it, in place, and returns it. An already frozen object
 * is not entered again, which also ends the walk on cycles.
 */
export function deepFreeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return value;
  Object.freeze(value);
  for (const child of Object.values(value)) deepFreeze(child);
  return value;
}
