/** Option checks shared by the resilience classes: a bad option fails at construction, typed. */
import { ValidationError } from '../errors.js';

/** An integer >= 1. */
export function positiveInt(field: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw invalid(field, 'an integer >= 1', value);
  return value;
}

/** A finite number >= 0. */
export function nonNegative(field: string, value: number): number {
  if (!Number.isFinite(value) || value < 0) throw invalid(field, 'a number >= 0', value);
  return value;
}

/** A number in [0, 1]. */
export function fraction(field: string, value: number): number {
  if (!Number.isFinite(value) || value < 0 || value > 1) throw invalid(field, 'a number between 0 and 1', value);
  return value;
}

function invalid(field: string, expected: string, value: unknown): ValidationError {
  return new ValidationError(`Expected \`${field}\` to be ${expected}, got ${String(value)} (${typeof value})`, 'invalid_argument', { field, expected, value });
}
