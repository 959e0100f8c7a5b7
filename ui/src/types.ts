/**
 * What the daemon's API answers, as the page reads it. Types only (DESIGN.md: the dashboard "imports
 * nothing of the daemon but types"): esbuild drops these imports, so no daemon code reaches the bundle.
 */
import type { HealthReport, PartInfo } from '../../daemon/api/services.js';
import type { AnyMessage, BusStats } from '../../daemon/bus/index.js';
import type { PayloadOf } from '../../daemon/bus/messages.js';

export type { AnyMessage, BusStats, PartInfo };

/** GET /health with the reads allowed: the report plus the stream's figures (routes/status.ts). */
export interface Health extends HealthReport {
  stream: {
    clients: number;
    maxClients: number;
    maxClientsPerAddress: number;
    dropped: number;
    refused: { maxClients: number; maxClientsPerAddress: number };
  };
}

/** GET /health without the token when `api.tokenForReads` is on: the status only. */
export interface HealthBrief {
  status: HealthReport['status'];
  ready: boolean;
}

/** The error body of every API route: `{ code, message }`. */
export interface ErrorBody {
  code: string;
  message: string;
}

/** The bits of GET /config the page reads. */
export interface ConfigView {
  api?: { token?: string; tokenForReads?: boolean };
}

export type BeatPayload = PayloadOf<'beat_event'>;

/** Priority names by value (the bus's PRIORITY_NAMES; a value, so not imported). */
export const PRIORITIES = ['CRITICAL', 'HIGH', 'NORMAL', 'LOW'] as const;
export type PriorityName = (typeof PRIORITIES)[number];
