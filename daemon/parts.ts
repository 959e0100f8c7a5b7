/**
 * The parts the daemon builds from its config. Each adapter and agent issue adds its factory here;
 * the composition root's logic (daemon.ts) does not change.
 */

import { midiParts } from '../adapters/midi/index.js';
import { oscParts } from '../adapters/osc/index.js';
import { agentParts } from '../agents/index.js';
import type { PartFactory } from './kernel/part.js';

export const defaultParts: PartFactory[] = [oscParts, midiParts, agentParts];
