/**
 * Why `publish` refuses a message (PFM_ERR_BUS_INVALID_MESSAGE). `publish` tests the fields inline on
 * its hot path; this names the first field at fault once it has found one. Messages from the wire
 * reach the bus untyped, so every field is checked at run time, not only by `tsc`.
 */
export function invalidMessageReason(
  type: unknown,
  priority: unknown,
  to: unknown,
  from: unknown,
  at: unknown,
): string {
  if (typeof type !== 'string' || type.length === 0) return 'type must be a non-empty string';
  if (!(priority === 0 || priority === 1 || priority === 2 || priority === 3)) {
    return `priority must be 0 (CRITICAL) .. 3 (LOW), got ${String(priority)}`;
  }
  if (typeof to !== 'string' || to.length === 0) return 'to must be an agent id or "broadcast"';
  if (typeof from !== 'string') return 'from must be a string';
  if (typeof at !== 'number') return `at must be a finite time in ms, got ${typeof at}`;
  return 'at must be a finite time in ms';
}
