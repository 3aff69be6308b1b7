/**
 * The events Python may send (the original's `Telemetry.Naming` Python catalogue) and their
 * measurement keys: the original's allowlist, renamed the catalogue's way (`rss_bytes` →
 * `rssBytes`, `duration` in ns → `durationMs`). An event of the original's catalogue with a key
 * outside the allowlist, or a value that is not a finite number, is dropped whole, as there.
 */

/** Every Python event name the host publishes (anything else is counted and dropped). */
export const PYTHON_EVENTS = [
  'snakepit.python.call.start',
  'snakepit.python.call.stop',
  'snakepit.python.call.exception',
  'snakepit.python.tool.execution.start',
  'snakepit.python.tool.execution.stop',
  'snakepit.python.tool.execution.exception',
  'snakepit.python.tool.result_size',
  'snakepit.python.span.start',
  'snakepit.python.span.stop',
  'snakepit.python.span.exception',
  'snakepit.python.memory.sampled',
  'snakepit.python.cpu.sampled',
  'snakepit.python.gc.completed',
  'snakepit.python.error.occurred',
  'snakepit.python.custom',
] as const;

export type PythonEventName = (typeof PYTHON_EVENTS)[number];

/** Ours, with measurements of the adapter's choosing (numbers, keys camelCased): not checked against the allowlist. */
const FREE_FORM: ReadonlySet<PythonEventName> = new Set(['snakepit.python.span.start', 'snakepit.python.span.stop', 'snakepit.python.span.exception', 'snakepit.python.custom']);

const PYTHON_SET: ReadonlySet<string> = new Set(PYTHON_EVENTS);

/**
 * Maps a name Python sent (`tool.execution.stop`, `python.tool.execution.stop` or the full
 * `snakepit.python.tool.execution.stop`) to its catalogued name; undefined when not catalogued.
 */
export function pythonEventName(name: string): PythonEventName | undefined {
  const full = name.startsWith('snakepit.python.') ? name : name.startsWith('python.') ? `snakepit.${name}` : `snakepit.python.${name}`;
  return PYTHON_SET.has(full) ? (full as PythonEventName) : undefined;
}

const toCamel = (key: string) => key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
const same = (v: number) => v;
/** Epoch time in seconds, ms, µs or ns (as Python's `time.time()` or `time.time_ns()` give it), to epoch ms. */
const epochMs = (v: number) => (v >= 1e17 ? v / 1e6 : v >= 1e14 ? v / 1e3 : v >= 1e11 ? v : v * 1e3);

/** The original's allowlist: wire key -> the catalogue's name and unit conversion. */
const MEASUREMENT_KEYS: ReadonlyMap<string, readonly [string, (v: number) => number]> = new Map([
  // The original's Python spans time with time.time_ns(): `duration` is in ns.
  ['duration', ['durationMs', (v: number) => v / 1e6]],
  ['duration_ms', ['durationMs', same]],
  ['system_time', ['systemTime', epochMs]],
  ...[
    'bytes',
    'queue_depth',
    'queue_time',
    'available_workers',
    'busy_workers',
    'total_workers',
    'worker_count',
    'lifetime',
    'total_commands',
    'command_count',
    'downtime',
    'restart_count',
    'retry_count',
    'request_size',
    'response_size',
    'message_size',
    'sequence_number',
    'message_count',
    'network_time',
    'uptime',
    'call_count',
    'affinity_duration',
    'commands_with_affinity',
    'rss_bytes',
    'vms_bytes',
    'cpu_percent',
    'collected',
    'generation',
    'latency_ms',
    'count',
    'python_pid',
  ].map((key) => [key, [toCamel(key), same]] as const),
]);

/** The measurement keys Python may send in the original's events (wire spelling). */
export const PYTHON_MEASUREMENT_KEYS: readonly string[] = [...MEASUREMENT_KEYS.keys()];

/** Measurements ready to publish, or why the event is dropped. */
export type MeasurementCheck = { ok: true; measurements: Record<string, number> } | { ok: false; reason: 'unknown_measurement_key' | 'invalid_measurement'; key: string };

/**
 * Validates and renames a Python event's measurements. Booleans count as 0/1 (as the original's
 * Python sends them); integers beyond 2^53 (`time.time_ns()`) arrive as bigints and become numbers;
 * a free-form event (`custom`, `span.*`) only needs numbers.
 */
export function pythonMeasurements(name: PythonEventName, raw: Record<string, unknown> | null | undefined): MeasurementCheck {
  const free = FREE_FORM.has(name);
  const out: Record<string, number> = {};
  if (!raw) return { ok: true, measurements: out };
  for (const key of Object.keys(raw)) {
    const given = raw[key];
    const value = typeof given === 'boolean' || typeof given === 'bigint' ? Number(given) : given;
    const known = MEASUREMENT_KEYS.get(key);
    if (!known && !free) return { ok: false, reason: 'unknown_measurement_key', key };
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      if (free) continue;
      return { ok: false, reason: 'invalid_measurement', key };
    }
    if (known) out[known[0]] = known[1](value);
    else out[toCamel(key)] = value;
  }
  return { ok: true, measurements: out };
}
