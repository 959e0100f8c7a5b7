/**
 * The V8 flags the daemon runs with: `npm start`, the systemd unit's ExecStart and the `performia`
 * binary's shebang give them (a test keeps the three in step), and the bench runs the bus and the
 * daemon under them, so its figures are the daemon's.
 *
 * `--min-semi-space-size=16` starts V8's young generation at its full 16 MB instead of growing it
 * from 1 MB. Bus messages die young, so V8 never grows it by itself: at 100,000 msg/s the 1 MB young
 * generation was collected every ~100 ms, each collection a 0.3-0.6 ms pause that delays the
 * messages in flight, enough to set the bus's p99 delivery latency (300-600 µs). At 16 MB: one every
 * ~0.5 s, and p99 under 200 µs. Collections get rarer, not longer (their cost follows the live
 * objects, not the space), for ~30 MB more address space, committed only as used.
 */
export const DAEMON_NODE_FLAGS: readonly string[] = ['--min-semi-space-size=16'];
