/**
 * The original's glob patterns over Python event names (`python.call.*`, `tool.execution.?top`):
 * `*` matches any run of characters, dots included, and `?` one character, as Python's fnmatch
 * does. The catalogue is closed, so a pattern is expanded once into the catalogued names it
 * matches: matching an event is then a set lookup, and Python is sent plain names.
 */
import { describeValue } from '../config/format-issues.js';
import { ValidationError } from '../errors.js';
import { PYTHON_EVENTS, type PythonEventName } from './python-catalog.js';

const PATTERN = /^[A-Za-z0-9_.*?-]+$/;
const PATTERN_TEXT = "an event name or glob pattern like 'python.call.*' (letters, digits, '_', '-', '.', '*', '?')";

/** The full form of a name or pattern: `tool.*` and `python.tool.*` mean `snakepit.python.tool.*`. */
export function fullPattern(pattern: string): string {
  if (pattern.startsWith('snakepit.')) return pattern;
  return pattern.startsWith('python.') ? `snakepit.${pattern}` : `snakepit.python.${pattern}`;
}

function globToRegExp(pattern: string): RegExp {
  const body = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

/**
 * The catalogued Python events `pattern` matches. A malformed pattern is `invalid_argument`, one
 * that matches no catalogued event `unknown_event` (a typo would otherwise silence or let through
 * nothing, unnoticed); `field` names the option in the error.
 */
export function expandPattern(pattern: unknown, field: string): PythonEventName[] {
  if (typeof pattern !== 'string' || !PATTERN.test(pattern)) {
    const received = describeValue(pattern);
    throw new ValidationError(`Expected \`${field}\` entries to be ${PATTERN_TEXT}, got ${received}`, 'invalid_argument', { field, expected: PATTERN_TEXT, received });
  }
  const re = globToRegExp(fullPattern(pattern));
  const names = PYTHON_EVENTS.filter((name) => re.test(name));
  if (names.length === 0) {
    throw new ValidationError(`\`${field}\` pattern '${pattern}' matches no catalogued Python event`, 'unknown_event', { field, pattern, events: [...PYTHON_EVENTS] });
  }
  return names;
}

/** Every catalogued name the patterns match, as a set (each pattern checked as `expandPattern` does). */
export function expandPatterns(patterns: unknown, field: string): Set<PythonEventName> {
  if (!Array.isArray(patterns)) {
    const received = describeValue(patterns);
    throw new ValidationError(`Expected \`${field}\` to be an array of patterns, got ${received}`, 'invalid_argument', { field, expected: 'an array of patterns', received });
  }
  const out = new Set<PythonEventName>();
  for (const pattern of patterns) for (const name of expandPattern(pattern, field)) out.add(name);
  return out;
}
