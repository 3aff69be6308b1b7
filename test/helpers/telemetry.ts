// Records telemetry events in integration tests and waits for them, bounded (never a sleep).
import { telemetry, type TelemetryEventName } from '../../src/index.js';

export interface SeenEvent {
  event: TelemetryEventName;
  measurements: Record<string, number>;
  metadata: Record<string, unknown>;
}

export interface TelemetryRecorder {
  /** Every event of `names` since the recorder was attached, in order. */
  seen: SeenEvent[];
  names(): TelemetryEventName[];
  /** Resolves once `pred(seen)` holds (checked now and after each event); rejects naming `what` after `timeoutMs`. */
  until(pred: (seen: SeenEvent[]) => boolean, what?: string, timeoutMs?: number): Promise<void>;
  /** `until` one event named `name` has been seen. */
  untilEvent(name: TelemetryEventName, timeoutMs?: number): Promise<void>;
  /** Detaches the handler. */
  stop(): void;
}

const DEFAULT_TIMEOUT_MS = 20_000;
let recorders = 0;

/** Attaches one handler for `names` that keeps what it sees; call `stop()` when done (afterEach). */
export function recordTelemetry(names: readonly TelemetryEventName[]): TelemetryRecorder {
  const seen: SeenEvent[] = [];
  const checks = new Set<() => void>();
  const id = `test-recorder-${++recorders}`;
  telemetry.attach(id, names, (event, measurements, metadata) => {
    seen.push({ event, measurements, metadata: metadata as Record<string, unknown> });
    for (const check of checks) check();
  });
  const until = (pred: (s: SeenEvent[]) => boolean, what = 'the expected events', timeoutMs = DEFAULT_TIMEOUT_MS) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (!pred(seen)) return;
        checks.delete(check);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        checks.delete(check);
        reject(new Error(`${what} did not happen within ${timeoutMs} ms`));
      }, timeoutMs);
      checks.add(check);
      check();
    });
  return {
    seen,
    names: () => seen.map((e) => e.event),
    until,
    untilEvent: (name, timeoutMs) => until((s) => s.some((e) => e.event === name), name, timeoutMs),
    stop: () => telemetry.detach(id),
  };
}
