/**
 * The parts the daemon builds from its config. Each adapter and agent issue adds its factory here;
 * the composition root's logic (daemon.ts) does not change.
 */

import { audioParts, listenParts } from '../adapters/audio/index.js';
import { midiParts } from '../adapters/midi/index.js';
import { oscParts } from '../adapters/osc/index.js';
import { agentParts } from '../agents/index.js';
import type { PartFactory } from './kernel/part.js';

export const defaultParts: PartFactory[] = [oscParts, midiParts, audioParts, listenParts, agentParts];

/** What `npm run demo` and `performia render` build: the band and the audio output, no gateway. */
export const demoParts: PartFactory[] = [audioParts, agentParts];
