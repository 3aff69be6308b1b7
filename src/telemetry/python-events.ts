/**
 * Python's events folded into the bus (the original's `Telemetry.GrpcStream`), and the runtime
 * control of what Python sends (`Telemetry.Control`: sampling, filters, on/off) without restarts:
 * a `telemetry_control` pipe frame, or `BridgeService.ConfigureTelemetry` for gRPC workers
 * (attached ones included).
 * Only catalogued `snakepit.python.*` names are published: anything else is counted and dropped,
 * so a worker can never create channels.
 */
import { emit, enabled, onSubscriptionChange, telemetryLogger } from './bus.js';
import { pythonEventName, type PythonEventName } from './catalog.js';

/** One event as Python sends it (pipe `telemetry` frame item, or a decoded gRPC TelemetryEvent). */
export interface WirePythonEvent {
  name: string;
  measurements?: Record<string, unknown> | null;
  metadata?: Record<string, unknown> | null;
  correlation_id?: string | null;
  ts?: number;
}

/** What the host may change in a worker's telemetry at runtime. */
export interface TelemetryControl {
  /** Keep each event with this probability (0 silences, 1 keeps all). @default 1 */
  sampling?: number;
  /** Only these names (`tool.execution.stop` or the full name); null = all. @default null */
  allow?: readonly string[] | null;
  /** Never these names. @default [] */
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

/** A worker that can take telemetry settings (the Worker class implements it). */
export interface ControllableWorker {
  readonly id: string;
  readonly pool: string;
  /**
   * Sends the settings to Python: a promise that settles once they apply (at once for a pipe
   * frame, which the calls after it follow in order), undefined when the worker cannot be told.
   */
  telemetryControl(control: TelemetryControl): Promise<unknown> | undefined;
}

const workers = new Map<string, ControllableWorker>();
/** Settings per pool ('*' for all), applied to workers that start later too. */
const settings = new Map<string, TelemetryControl>();
/** Settings sent and not yet acknowledged (gRPC workers answer `ConfigureTelemetry`). */
const pending = new Set<Promise<unknown>>();
let dropped = 0;

/** Sends `control` to `worker`; false when it cannot be told. A refusal is logged, never thrown. */
function tell(worker: ControllableWorker, control: TelemetryControl): boolean {
  const sent = worker.telemetryControl(control);
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

/** Tracks a started worker and sends it the current settings. */
export function registerWorker(worker: ControllableWorker): () => void {
  workers.set(worker.id, worker);
  const current = { ...settings.get('*'), ...settings.get(worker.pool) };
  if (Object.keys(current).length > 0) tell(worker, current);
  return () => {
    if (workers.get(worker.id) === worker) workers.delete(worker.id);
  };
}

/**
 * Changes Python telemetry of one pool's workers (or of all, without `pool`) at once, and of
 * those that start later. Returns the number of running workers told.
 * @example telemetry.control.configure({ sampling: 0.1, deny: ['memory.sampled'] }, 'default')
 */
export function configure(control: TelemetryControl, pool?: string): number {
  const key = pool ?? '*';
  settings.set(key, { ...settings.get(key), ...control });
  if (pool === undefined) for (const [k, v] of settings) if (k !== '*') settings.set(k, { ...v, ...control });
  let told = 0;
  for (const worker of workers.values()) if ((pool === undefined || worker.pool === pool) && tell(worker, control)) told++;
  return told;
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

/** Python telemetry control: the original's `Telemetry.Control`. */
export const control = {
  configure,
  /** Sampling rate 0..1 for `pool` (all pools without it). @example telemetry.control.setSampling(0) */
  setSampling: (rate: number, pool?: string) => configure({ sampling: rate }, pool),
  /** Allow/deny lists of Python event names. */
  setFilter: (filter: { allow?: readonly string[] | null; deny?: readonly string[] }, pool?: string) => configure(filter, pool),
  /** Python resource sampling (memory and CPU of each worker) every `intervalMs`; 0 stops it. */
  sampleResources: (intervalMs: number, pool?: string) => configure({ resourceIntervalMs: intervalMs }, pool),
  /** Turns Python telemetry on or off. */
  toggle: (on: boolean, pool?: string) => configure({ enabled: on }, pool),
  settled,
  /** Python events dropped because their name is not catalogued (since start). */
  dropped: () => dropped,
};

/** The names of Python's own per-call events (see `TelemetryControl.callEvents`). */
const CALL_EVENTS = ['snakepit.python.call.start', 'snakepit.python.call.stop', 'snakepit.python.call.exception'] as const;
let callEventsOn = false;

/** Turns Python's own call events on while a handler listens to one of them, off when none does. */
function syncCallEvents(): void {
  const wanted = CALL_EVENTS.some((name) => enabled(name));
  if (wanted === callEventsOn) return;
  callEventsOn = wanted;
  configure({ callEvents: wanted });
}
onSubscriptionChange(syncCallEvents);

const numbers = (raw: Record<string, unknown> | null | undefined): Record<string, number> => {
  const out: Record<string, number> = {};
  for (const [key, value] of Object.entries(raw ?? {})) if (typeof value === 'number') out[toCamel(key)] = value;
  return out;
};
const toCamel = (key: string) => key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

/** Publishes a batch from worker `workerId` (pool looked up when not given). */
export function foldPythonEvents(pool: string | undefined, workerId: string, events: readonly WirePythonEvent[]): void {
  for (const event of events) {
    const name: PythonEventName | undefined = typeof event.name === 'string' ? pythonEventName(event.name) : undefined;
    if (!name) {
      dropped++;
      if (enabled('snakepit.telemetry.dropped')) emit('snakepit.telemetry.dropped', { count: dropped }, { workerId, name: String(event.name) });
      telemetryLogger().debug(`Dropped Python event '${String(event.name)}': not in the catalog`, { workerId });
      continue;
    }
    if (!enabled(name)) continue;
    const { correlation_id: metaCorrelation, ...metadata } = event.metadata ?? {};
    const correlationId = event.correlation_id ?? (typeof metaCorrelation === 'string' ? metaCorrelation : undefined);
    emit(name, numbers(event.measurements), {
      ...metadata,
      pool: pool ?? workers.get(workerId)?.pool ?? 'unknown',
      workerId,
      correlationId,
      ...(event.ts === undefined ? {} : { pythonTime: event.ts }),
    });
  }
}
