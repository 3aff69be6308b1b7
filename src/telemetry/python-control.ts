/**
 * Runtime control of Python's telemetry (the original's `Telemetry.Control` and the per-worker
 * side of `Telemetry.GrpcStream`): sampling, glob filters and on/off for every pool, one pool or
 * one worker, and the listing of the workers' streams. A pipe worker gets a `telemetry_control`
 * frame, a gRPC worker the `ConfigureTelemetry` RPC; nothing restarts. Filters are expanded into
 * catalogued names before they are sent, and also applied as events arrive (`admit`), as are
 * sampling rates given for event patterns, which only the host applies.
 */
import { describeValue } from '../config/format-issues.js';
import { ValidationError } from '../errors.js';
import { fraction } from '../resilience/validate.js';
import { expandPatterns } from './event-patterns.js';
import { telemetryLogger } from './bus.js';
import type { PythonEventName } from './python-catalog.js';

/** What the host may change in a worker's telemetry at runtime. */
export interface TelemetryControl {
  /** Keep each event with this probability, in Python (0 silences, 1 keeps all). @default 1 */
  sampling?: number;
  /** Only events matching these names or glob patterns (`python.call.*`); null = all. @default null */
  allow?: readonly string[] | null;
  /** Never events matching these names or patterns. @default [] */
  deny?: readonly string[];
  /** Master switch. @default true */
  enabled?: boolean;
  /** Emit `snakepit.python.memory.sampled` (`rssBytes`) and `cpu.sampled` (`cpuPercent`) this often; 0 = off. @default 0 */
  resourceIntervalMs?: number;
  /**
   * Python's own `snakepit.python.call.start|stop|exception` around every call. Set for you: on
   * while a handler is attached to one of them, off otherwise (each costs the worker a few µs per call).
   * @default false
   */
  callEvents?: boolean;
}

/** Where a change applies: all pools (and workers started later) when left out, a pool by name, or one running worker. */
export type ControlTarget = string | { pool?: string; workerId?: string };

/** A sampling rate for the events some patterns match (host-side; set by `setSampling(rate, { patterns })`). */
export interface PatternSampling {
  patterns: readonly string[];
  rate: number;
}

/** A worker that can take telemetry settings (the Worker class implements it). */
export interface ControllableWorker {
  readonly id: string;
  readonly pool: string;
  readonly pid?: number | undefined;
  /**
   * Sends the settings to Python: a promise that settles once they apply (at once for a pipe
   * frame, which the calls after it follow in order), undefined when the worker cannot be told.
   */
  telemetryControl(control: TelemetryControl): Promise<unknown> | undefined;
}

/** One worker's telemetry stream, as `telemetry.control.streams()` lists it. */
export interface TelemetryStreamInfo {
  workerId: string;
  pool: string;
  pid: number | undefined;
  /** The settings in force for this worker (all pools', its pool's and its own, the latest winning). */
  settings: Required<Omit<TelemetryControl, 'allow'>> & { allow: readonly string[] | null; samplingPatterns: readonly PatternSampling[] };
  /** Events received from it (published, filtered or dropped). */
  received: number;
  /** Of those, events dropped as invalid (uncatalogued name, bad measurement). */
  dropped: number;
  /** Epoch ms of its last event; null before the first. */
  lastEventAt: number | null;
}

type Layer = TelemetryControl & { samplingPatterns?: PatternSampling[] };

interface Compiled {
  enabled: boolean;
  allow: ReadonlySet<PythonEventName> | null;
  deny: ReadonlySet<PythonEventName>;
  rules: { names: ReadonlySet<PythonEventName>; rate: number }[];
}

interface Stream {
  worker: ControllableWorker;
  compiled: Compiled | undefined;
  received: number;
  dropped: number;
  lastEventAt: number | null;
}

const DEFAULTS = { sampling: 1, allow: null, deny: [], enabled: true, resourceIntervalMs: 0, callEvents: false } as const;
const KEYS = new Set(Object.keys(DEFAULTS));

const streams = new Map<string, Stream>();
/** Settings by scope: '*' (all), `pool:<name>`, `worker:<id>`; a wider change overrides the narrower ones it covers. */
const layers = new Map<string, Layer>();
/** Settings sent and not yet acknowledged (gRPC workers answer `ConfigureTelemetry`). */
const pending = new Set<Promise<unknown>>();

/** Checks a control map: known keys, and each value of its type and range. */
function validate(control: unknown): TelemetryControl {
  if (typeof control !== 'object' || control === null || Array.isArray(control)) {
    throw new ValidationError(`Expected telemetry settings to be an object, got ${describeValue(control)}`, 'invalid_argument', { field: 'control', expected: 'an object' });
  }
  const c = control as Record<string, unknown>;
  for (const key of Object.keys(c)) {
    if (!KEYS.has(key)) throw new ValidationError(`Unknown telemetry setting \`${key}\` (known: ${[...KEYS].join(', ')})`, 'invalid_argument', { field: key, expected: [...KEYS] });
  }
  if (c.sampling !== undefined) fraction('sampling', c.sampling as number);
  if (c.allow !== undefined && c.allow !== null) expandPatterns(c.allow, 'allow');
  if (c.deny !== undefined) expandPatterns(c.deny, 'deny');
  for (const field of ['enabled', 'callEvents'] as const) {
    if (c[field] !== undefined && typeof c[field] !== 'boolean') {
      throw new ValidationError(`Expected \`${field}\` to be a boolean, got ${describeValue(c[field])}`, 'invalid_argument', { field, expected: 'a boolean', received: describeValue(c[field]) });
    }
  }
  const interval = c.resourceIntervalMs;
  if (interval !== undefined && (!Number.isInteger(interval) || (interval as number) < 0)) {
    throw new ValidationError(`Expected \`resourceIntervalMs\` to be an integer >= 0, got ${describeValue(interval)}`, 'invalid_argument', {
      field: 'resourceIntervalMs',
      expected: 'an integer >= 0',
      received: describeValue(interval),
    });
  }
  return c as TelemetryControl;
}

/** The scope key and the workers a target covers; an unknown worker is `unknown_worker`. */
function resolve(target: ControlTarget | undefined): { key: string; covers: (s: Stream) => boolean; narrower: (key: string) => boolean } {
  const t = typeof target === 'string' ? { pool: target } : (target ?? {});
  if (t.workerId !== undefined) {
    if (!streams.has(t.workerId)) {
      throw new ValidationError(`Unknown worker '${t.workerId}' (workers: ${[...streams.keys()].join(', ') || 'none'})`, 'unknown_worker', { workerId: t.workerId, workers: [...streams.keys()] });
    }
    return { key: `worker:${t.workerId}`, covers: (s) => s.worker.id === t.workerId, narrower: () => false };
  }
  if (t.pool !== undefined) {
    const pool = t.pool;
    return { key: `pool:${pool}`, covers: (s) => s.worker.pool === pool, narrower: (k) => k.startsWith('worker:') && streams.get(k.slice(7))?.worker.pool === pool };
  }
  return { key: '*', covers: () => true, narrower: (k) => k !== '*' };
}

/** What Python is sent: filters as the catalogued names they expand to. */
function wire(control: TelemetryControl): TelemetryControl {
  const out: TelemetryControl = { ...control };
  if (control.allow) out.allow = [...expandPatterns(control.allow, 'allow')];
  if (control.deny) out.deny = [...expandPatterns(control.deny, 'deny')];
  return out;
}

/** Sends `control` to `worker`; false when it cannot be told. A refusal is logged, never thrown. */
function tell(worker: ControllableWorker, control: TelemetryControl): boolean {
  const sent = worker.telemetryControl(wire(control));
  if (!sent) return false;
  const tracked: Promise<unknown> = sent.then(
    () => pending.delete(tracked),
    (error: unknown) => {
      pending.delete(tracked);
      telemetryLogger().debug(`Worker ${worker.id} did not take the telemetry settings: ${(error as Error)?.message ?? String(error)}`, { workerId: worker.id, pool: worker.pool });
    },
  );
  pending.add(tracked);
  return true;
}

/** The layers in force for `worker`, widest first. */
function layersOf(worker: ControllableWorker): Layer[] {
  return ['*', `pool:${worker.pool}`, `worker:${worker.id}`].map((k) => layers.get(k)).filter((l): l is Layer => l !== undefined);
}

function effective(worker: ControllableWorker): TelemetryStreamInfo['settings'] {
  const merged: Layer = Object.assign({}, ...layersOf(worker));
  // Pattern rates of narrower scopes come first: they decide for the events they name.
  const samplingPatterns = layersOf(worker)
    .reverse()
    .flatMap((l) => [...(l.samplingPatterns ?? [])].reverse());
  return {
    sampling: merged.sampling ?? DEFAULTS.sampling,
    allow: merged.allow ?? null,
    deny: merged.deny ?? [],
    enabled: merged.enabled ?? DEFAULTS.enabled,
    resourceIntervalMs: merged.resourceIntervalMs ?? DEFAULTS.resourceIntervalMs,
    callEvents: merged.callEvents ?? DEFAULTS.callEvents,
    samplingPatterns,
  };
}

function compile(worker: ControllableWorker): Compiled {
  const s = effective(worker);
  return {
    enabled: s.enabled,
    allow: s.allow === null ? null : expandPatterns(s.allow, 'allow'),
    deny: expandPatterns(s.deny, 'deny'),
    rules: s.samplingPatterns.map((r) => ({ names: expandPatterns(r.patterns, 'patterns'), rate: r.rate })),
  };
}

/** Tracks a started worker and sends it the settings in force for its pool. Returns its unregister. */
export function registerWorker(worker: ControllableWorker): () => void {
  const stream: Stream = { worker, compiled: undefined, received: 0, dropped: 0, lastEventAt: null };
  streams.set(worker.id, stream);
  const { samplingPatterns: _hostOnly, ...current } = Object.assign({}, ...layersOf(worker)) as Layer;
  if (Object.keys(current).length > 0) tell(worker, current);
  return () => {
    if (streams.get(worker.id) !== stream) return;
    streams.delete(worker.id);
    layers.delete(`worker:${worker.id}`);
  };
}

/** Applies a validated change at `key`, overriding the same keys in the narrower scopes it covers. */
function apply(target: ControlTarget | undefined, change: Layer, tellPython: TelemetryControl | undefined): number {
  const { key, covers, narrower } = resolve(target);
  layers.set(key, { ...layers.get(key), ...change });
  for (const [k, layer] of layers) {
    if (!narrower(k)) continue;
    const trimmed = { ...layer };
    for (const name of Object.keys(change) as (keyof Layer)[]) delete trimmed[name];
    layers.set(k, trimmed);
  }
  let told = 0;
  for (const stream of streams.values()) {
    if (!covers(stream)) continue;
    stream.compiled = undefined;
    if (tellPython && Object.keys(tellPython).length > 0 && tell(stream.worker, tellPython)) told++;
  }
  return told;
}

/**
 * Changes Python telemetry of every pool (no target), one pool (`'ml'` or `{ pool }`) or one worker
 * (`{ workerId }`), at once and for workers of that scope that start later. Every value is checked
 * first (`invalid_argument`, `unknown_event` for a pattern matching no catalogued event,
 * `unknown_worker`). Returns the number of running workers told.
 * @example telemetry.control.configure({ sampling: 0.1, deny: ['python.memory.*'] }, 'default')
 */
export function configure(control: TelemetryControl, target?: ControlTarget): number {
  const checked = validate(control);
  // A new overall rate replaces the pattern rates of that scope: the latest setting wins.
  const change: Layer = checked.sampling === undefined ? { ...checked } : { ...checked, samplingPatterns: [] };
  return apply(target, change, checked);
}

/**
 * Sets the sampling rate (0..1) of every pool, one pool or one worker; with `patterns`, only of
 * the events they match (`['python.call.*']`), on top of the overall rate (the host drops them).
 * @example telemetry.control.setSampling(0.1, { patterns: ['python.call.*'], pool: 'default' })
 */
export function setSampling(rate: number, options?: string | { pool?: string; workerId?: string; patterns?: readonly string[] }): number {
  fraction('rate', rate);
  const { patterns, ...target } = typeof options === 'string' ? { pool: options } : (options ?? {});
  if (patterns === undefined) return configure({ sampling: rate }, target);
  expandPatterns(patterns, 'patterns');
  const { key } = resolve(target);
  const rules = (layers.get(key)?.samplingPatterns ?? []).filter((r) => !samePatterns(r.patterns, patterns));
  return apply(target, { samplingPatterns: [...rules, { patterns: [...patterns], rate }] }, undefined);
}

const samePatterns = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((p, i) => p === b[i]);

/**
 * Whether an event `name` from `workerId` is let through under the settings in force (filters,
 * on/off and pattern rates: what Python was told, checked again, and what only the host applies).
 * Counts the event on the worker's stream.
 */
export function admit(workerId: string, name: PythonEventName): boolean {
  const stream = streams.get(workerId);
  if (!stream) return true;
  stream.received++;
  stream.lastEventAt = Date.now();
  const c = (stream.compiled ??= compile(stream.worker));
  if (!c.enabled || c.deny.has(name) || (c.allow !== null && !c.allow.has(name))) return false;
  for (const rule of c.rules) if (rule.names.has(name)) return rule.rate >= 1 || (rule.rate > 0 && Math.random() < rule.rate);
  return true;
}

/** Counts an invalid event on its worker's stream. */
export function countDropped(workerId: string): void {
  const stream = streams.get(workerId);
  if (stream) stream.dropped++;
}

/** The pool of a registered worker. */
export function poolOf(workerId: string): string | undefined {
  return streams.get(workerId)?.worker.pool;
}

/** Every running worker's telemetry stream: its settings in force and what it sent (the original's `GrpcStream.list_streams`). */
export function streamsInfo(): TelemetryStreamInfo[] {
  return [...streams.values()].map((s) => ({
    workerId: s.worker.id,
    pool: s.worker.pool,
    pid: s.worker.pid,
    settings: effective(s.worker),
    received: s.received,
    dropped: s.dropped,
    lastEventAt: s.lastEventAt,
  }));
}

/**
 * Resolves once every setting sent so far has been applied by its worker (gRPC workers answer
 * `ConfigureTelemetry`; a pipe frame applies in order with the calls after it). A worker that
 * fails to answer (it died) does not hold it up: it never rejects.
 * @example telemetry.control.setSampling(0); await telemetry.control.settled(); // calls from now on are silent
 */
export async function settled(): Promise<void> {
  await Promise.all([...pending]);
}

/** Puts every scope back to the defaults (all on, rate 1, no filters, no resource sampling) and tells the workers. */
export function reset(): number {
  layers.clear();
  let told = 0;
  for (const stream of streams.values()) {
    stream.compiled = undefined;
    if (tell(stream.worker, { ...DEFAULTS, deny: [] })) told++;
  }
  return told;
}
