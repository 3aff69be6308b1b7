/**
 * The telemetry bus: one `node:diagnostics_channel` channel per event name. Publishing costs a
 * `hasSubscribers` check when nobody listens, so emitters test `enabled(name)` before building a
 * payload. Handlers attach by id (the original's `:telemetry.attach/4`); one that throws is
 * detached and logged, and the call that emitted carries on. `snakepit.*` names are a closed
 * catalogue (an uncatalogued one is `unknown_event`); any other well-formed name (`myapp.index.stop`)
 * is the application's own, attached to and emitted like a catalogued one.
 */
import diagnosticsChannel, { type Channel } from 'node:diagnostics_channel';
import { describeValue } from '../config/format-issues.js';
import { ValidationError } from '../errors.js';
import { Logger } from '../logger.js';
import { onResilienceEvent, RESILIENCE_EVENTS, type ResilienceEventName } from '../resilience/events.js';
import { EVENT_NAMES, type Measurements, type Metadata, type TelemetryEventMap, type TelemetryEventName } from './catalog.js';

/** An application's own event name: any well-formed name outside `snakepit.*`. */
export type AppEventName = string & {};

/** What an event of `N` carries: the catalogue's types, or numbers and context for an application name. */
export type PayloadOf<N extends string> = N extends TelemetryEventName ? TelemetryEventMap[N] : { measurements: Measurements; metadata: Metadata };

/** What a channel carries: subscribe to `snakepit.call.stop` with `diagnostics_channel` directly to get these. */
export interface TelemetryMessage<N extends string = TelemetryEventName> {
  event: N;
  measurements: PayloadOf<N>['measurements'];
  metadata: PayloadOf<N>['metadata'];
}

/** A handler: the event name, its measurements (numbers) and metadata (context). */
export type TelemetryHandler<N extends string = TelemetryEventName> = (event: N, measurements: PayloadOf<N>['measurements'], metadata: PayloadOf<N>['metadata']) => void;

/**
 * `N` itself, or never for an uncatalogued `snakepit.*` name: the compiler refuses a typo in a
 * catalogued name as the bus does at run time.
 */
export type EventName<N extends string> = N extends `snakepit.${string}` ? (N extends TelemetryEventName ? N : never) : N;

interface Attachment {
  names: readonly string[];
  listener: (message: unknown) => void;
}

const channels = new Map<string, Channel>(EVENT_NAMES.map((name) => [name, diagnosticsChannel.channel(name)]));
const attachments = new Map<string, Attachment>();
/** Run after every attach/detach (python-events.ts turns Python's own call events on while they have handlers). */
const subscriptionHooks = new Set<() => void>();

/** Calls `hook` after each `attach`/`detach` (its return removes it). */
export function onSubscriptionChange(hook: () => void): () => void {
  subscriptionHooks.add(hook);
  return () => subscriptionHooks.delete(hook);
}
let logger = new Logger('warn').child({ category: 'telemetry' });

const APP_NAME = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;
const APP_NAME_TEXT = "a dot-separated event name like 'myapp.index.stop' (letters, digits, '_' or '-')";

/**
 * Checks that `name` may be attached to or emitted: catalogued, or a well-formed name outside
 * `snakepit.*`. A `snakepit.*` name the catalogue lacks is `unknown_event`; a malformed one
 * `invalid_argument` (details `field`, `expected`, `received`).
 */
export function checkEventName(name: string): void {
  if (channels.has(name)) return;
  if (typeof name !== 'string' || !APP_NAME.test(name)) {
    const received = describeValue(name);
    throw new ValidationError(`Expected ${APP_NAME_TEXT}, got ${received}`, 'invalid_argument', { field: 'name', expected: APP_NAME_TEXT, received });
  }
  if (name === 'snakepit' || name.startsWith('snakepit.')) {
    throw new ValidationError(`'${name}' is not a catalogued telemetry event (snakepit.* names are a closed set; use your own prefix)`, 'unknown_event', { name });
  }
}

/** Whether anyone listens to `name`: test it before building a payload. */
export function enabled(name: TelemetryEventName | AppEventName): boolean {
  const channel = channels.get(name);
  return channel ? channel.hasSubscribers : diagnosticsChannel.hasSubscribers(name);
}

/**
 * Publishes one event (a no-op without subscribers). An application name (outside `snakepit.*`)
 * is published on its own channel; an uncatalogued `snakepit.*` name throws `unknown_event`.
 * @example telemetry.emit('myapp.cache.miss', { count: 1 }, { key: 'user:42' });
 */
export function emit<N extends string>(name: N & EventName<N>, measurements: PayloadOf<N>['measurements'], metadata: PayloadOf<N>['metadata']): void {
  const channel = channels.get(name);
  if (channel) {
    if (channel.hasSubscribers) channel.publish({ event: name, measurements, metadata } satisfies TelemetryMessage<N>);
    return;
  }
  checkEventName(name);
  if (diagnosticsChannel.hasSubscribers(name)) diagnosticsChannel.channel(name).publish({ event: name, measurements, metadata } satisfies TelemetryMessage<N>);
}

/**
 * Attaches `handler` to `names` under `id` (unique): catalogued names, or your application's own
 * (`myapp.operation.stop`). A handler that throws is detached and the error logged (category
 * `telemetry`): observing must never break a call.
 * @example telemetry.attach('slow-calls', ['snakepit.call.stop'], (_e, { durationMs }, { tool }) => durationMs > 1000 && console.warn(tool));
 */
export function attach<N extends string>(id: string, names: (N & EventName<N>) | readonly (N & EventName<N>)[], handler: TelemetryHandler<N>): void {
  const list: string[] = typeof names === 'string' ? [names] : [...names];
  if (attachments.has(id)) throw new ValidationError(`A telemetry handler with id '${id}' is already attached`, 'duplicate_handler', { id });
  for (const name of list) checkEventName(name);
  const listener = (message: unknown) => {
    const { event, measurements, metadata } = message as TelemetryMessage<N>;
    try {
      handler(event, measurements, metadata);
    } catch (error) {
      detach(id);
      logger.error(`Telemetry handler '${id}' threw on ${event} and was detached: ${(error as Error)?.message ?? String(error)}`, { handlerId: id, event });
    }
  };
  for (const name of list) subscribe(name, listener);
  attachments.set(id, { names: list, listener });
  for (const hook of subscriptionHooks) hook();
}

// Application channels go through the module functions: they keep a subscribed channel alive
// (a channel nobody holds may be collected, and its subscribers with it).
function subscribe(name: string, listener: (message: unknown) => void): void {
  const channel = channels.get(name);
  if (channel) channel.subscribe(listener);
  else diagnosticsChannel.subscribe(name, listener);
}

/** Same as `attach`: the original's `attach_many` (one handler, many names). */
export const attachMany = attach;

/** Detaches handler `id`; returns whether it was attached. */
export function detach(id: string): boolean {
  const attachment = attachments.get(id);
  if (!attachment) return false;
  attachments.delete(id);
  for (const name of attachment.names) {
    const channel = channels.get(name);
    if (channel) channel.unsubscribe(attachment.listener);
    else diagnosticsChannel.unsubscribe(name, attachment.listener);
  }
  for (const hook of subscriptionHooks) hook();
  return true;
}

/** Ids of the attached handlers and their names (for diagnostics). */
export function handlers(): { id: string; events: readonly string[] }[] {
  return [...attachments].map(([id, a]) => ({ id, events: a.names }));
}

/** Every catalogued event name (applications' own names are not listed). */
export function events(): readonly TelemetryEventName[] {
  return EVENT_NAMES;
}

/** Where the bus logs detached handlers and dropped Python events. @default stderr, level `warn` */
export function setTelemetryLogger(next: Logger): void {
  logger = next.child({ category: 'telemetry' });
}

/** The bus's logger (category `telemetry`). */
export function telemetryLogger(): Logger {
  return logger;
}

// The resilience toolkit has its own hook: forward its events under `snakepit.*`, asking only for
// those someone listens to (its per-call events are then never built for nobody).
// Their bus channels, looked up once: the gate runs on every call through a pool's breaker.
const resilienceChannels = new Map(RESILIENCE_EVENTS.map((name): [ResilienceEventName, Channel | undefined] => [name, channels.get(`snakepit.${name}`)]));
onResilienceEvent(
  '*',
  (name, measurements, metadata) => emit(`snakepit.${name}`, measurements as never, metadata as never),
  (name) => resilienceChannels.get(name)?.hasSubscribers === true,
);
