/** Performia's package entry point: the message bus, its types and the error codes. */
export * from './bus/index.js';
export * from './kernel/errors.js';
