/**
 * The clock each side of the listening process reads: `performance.now()` offset to the Unix epoch by
 * the process's own `timeOrigin`, as the bus clock is (daemon/bus/bus-options.ts `systemClock`). In
 * the daemon it is the bus clock; in the host it is the host's, which listen-child.ts maps to the bus
 * clock with a measured offset (two processes take their `timeOrigin` at different moments).
 */
const origin = performance.timeOrigin;

/** Now, ms. */
export const epochNow = (): number => origin + performance.now();
