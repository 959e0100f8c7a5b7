/**
 * The parts the daemon builds from its config. Each adapter and agent issue adds its factory here;
 * the composition root's logic (daemon.ts) does not change. None exist yet: the OSC adapter (issue #4)
 * is the first.
 */
import type { PartFactory } from './part.js';

export const defaultParts: PartFactory[] = [];
