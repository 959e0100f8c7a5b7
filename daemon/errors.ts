/**
 * Every error Performia raises, in one place (CONVENTIONS.md, "Errors").
 *
 * Each has a stable code `PFM_ERR_<AREA>_<WHAT>`, a message template, and the HTTP status the control
 * API answers with. `test/unit/errors.test.ts` keeps this list and README's error table in step.
 * Each constructor takes the template's arguments, then optionally `{ cause }` (the original error).
 */
import { createError, type FastifyErrorConstructor } from '@fastify/error';

type PfmErrorConstructor<C extends string, A extends unknown[]> = FastifyErrorConstructor<
  { code: C; statusCode: number },
  [...A, ErrorOptions?]
>;

function define<A extends unknown[]>() {
  return <C extends `PFM_ERR_${string}`>(
    code: C,
    message: string,
    statusCode: number,
    Base?: ErrorConstructor,
  ): PfmErrorConstructor<C, A> => createError(code, message, statusCode, Base) as PfmErrorConstructor<C, A>;
}

/** A published message was malformed (bad type, priority, recipient). */
export const BusInvalidMessageError = define<[reason: string]>()(
  'PFM_ERR_BUS_INVALID_MESSAGE',
  'Invalid bus message: %s',
  400,
  TypeError,
);

/** The queue is full and holds nothing of a strictly lower priority to evict. */
export const BusFullError = define<[size: number, priority: string, type: string]>()(
  'PFM_ERR_BUS_FULL',
  'Bus queue is full (%d messages) and holds nothing of lower priority than %s to evict; message "%s" refused',
  503,
);

/** publish() after stop() was called. */
export const BusStoppedError = define<[type: string]>()(
  'PFM_ERR_BUS_STOPPED',
  'Bus is stopped; message "%s" refused',
  503,
);

/** The bus was given an invalid option (constructor or subscribe). */
export const BusInvalidOptionError = define<[reason: string]>()(
  'PFM_ERR_BUS_INVALID_OPTION',
  'Invalid bus option: %s',
  500,
  RangeError,
);

/** A subscriber's handler threw or rejected; reported through the `handlerError` event and stats. */
export const BusHandlerError = define<[subscriber: string, type: string, id: number]>()(
  'PFM_ERR_BUS_HANDLER',
  'Handler of subscriber %s failed on message "%s" #%d',
  500,
);

/** All error constructors by code: the list README's error table is checked against. */
export const ERRORS = {
  PFM_ERR_BUS_INVALID_MESSAGE: BusInvalidMessageError,
  PFM_ERR_BUS_FULL: BusFullError,
  PFM_ERR_BUS_STOPPED: BusStoppedError,
  PFM_ERR_BUS_INVALID_OPTION: BusInvalidOptionError,
  PFM_ERR_BUS_HANDLER: BusHandlerError,
} as const;

/** A Performia error code. */
export type ErrorCode = keyof typeof ERRORS;

/** True when `err` is an Error carrying the given Performia code. */
export function hasCode(err: unknown, code: ErrorCode): boolean {
  return err instanceof Error && (err as Error & { code?: unknown }).code === code;
}
