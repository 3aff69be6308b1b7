/**
 * Correlation ids made for calls whose caller gave none: a random UUID per process, its last group
 * replaced by a call counter. Ids stay unique and UUID-shaped, a call costs a counter bump instead
 * of a random UUID, and the string can wait until something reads it: the pipe writes a compact
 * call's id from the prefix and the number (transport/pipe/compact-call.ts).
 */
import { randomUUID } from 'node:crypto';

/** This process's prefix: the first four groups of a random UUID and the last dash (24 characters). */
export const CORRELATION_PREFIX = randomUUID().slice(0, 24);

/** Hex digits of the counter: the UUID's last group. */
export const CORRELATION_SEQ_DIGITS = 12;

let counter = 0;

/** The number of the next correlation id (from 1). */
export const nextCorrelationSeq = (): number => ++counter;

/** The correlation id of number `seq`. */
export const correlationIdOf = (seq: number): string => CORRELATION_PREFIX + seq.toString(16).padStart(CORRELATION_SEQ_DIGITS, '0');

/** A new correlation id. */
export const newCorrelationId = (): string => correlationIdOf(nextCorrelationSeq());
