/**
 * One run of one figure, in a process of its own so GC state and JIT feedback do not leak between
 * runs: `node --expose-gc dist/bench/worker.js <figure>`. Sends the RunResult over IPC when forked by
 * the runner, prints it as JSON otherwise (handy to try one figure by hand). Stdout is not for
 * results: the runner forwards it to stderr.
 */
import { findFigure } from './registry.js';
import type { RunResult } from './types.js';

async function main(): Promise<void> {
  const name = process.argv[2];
  if (name === undefined) throw new Error('usage: worker.js <figure name>');
  const figure = await findFigure(name);
  const result: RunResult = await figure.run();
  const send = process.send?.bind(process);
  if (send === undefined) {
    console.log(JSON.stringify(result));
    process.exit(0);
  }
  // Exit once the message is flushed: a figure may leave timers or handles behind.
  send(result, undefined, {}, () => process.exit(0));
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exit(1);
});
