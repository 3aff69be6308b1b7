/**
 * The telemetry bus: one `node:diagnostics_channel` channel per catalogued name. Publishing costs
 * a `hasSubscribers` check when nobody listens, so emitters test `enabled(name)` before building
 * a payload. Handlers attach by id (the original's `:telemetry.attach/4`); one that throws is
 * detached and logged, and the call that emitted carries on.
 */
import diagnosticsChannel, { type Channel } from 'node:diagnostics_channel';
import { ValidationError } from '../errors.js';
import { Logger } from '../logger.js';
import { onResilienceEvent } from '../resilience/events.js';
import { EVENT_NAMES, type TelemetryEventMap, type TelemetryEventName } from './catalog.js';

/** What a channel carries: subscribe to `snakepit.call.stop` with `diagnostics_channel` directly to get these. */
export interface TelemetryMessage<N extends TelemetryEventName = TelemetryEventName> {
  event: N;
  measurements: TelemetryEventMap[N]['measurements'];
  metadata: TelemetryEventMap[N]['metadata'];
}

/** A handler: the event name, its measurements (numbers) and metadata (context). */
export type TelemetryHandler<N extends TelemetryEventName = TelemetryEventName> = (
  event: N,
  measurements: TelemetryEventMap[N]['measurements'],
  metadata: TelemetryEventMap[N]['metadata'],
) => void;

interface Attachment {
  names: readonly TelemetryEventName[];
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

const channelOf = (name: TelemetryEventName): Channel => {
  const channel = channels.get(name);
  if (!channel) throw new ValidationError(`'${name}' is not a catalogued telemetry event`, 'unknown_event', { name });
  return channel;
};

/** Whether anyone listens to `name`: test it before building a payload. */
export function enabled(name: TelemetryEventName): boolean {
  return channels.get(name)?.hasSubscribers === true;
}

/** Publishes one event (a no-op without subscribers). */
export function emit<N extends TelemetryEventName>(name: N, measurements: TelemetryEventMap[N]['measurements'], metadata: TelemetryEventMap[N]['metadata']): void {
  const channel = channels.get(name);
  if (channel?.hasSubscribers) channel.publish({ event: name, measurements, metadata } satisfies TelemetryMessage<N>);
}

/**
 * Attaches `handler` to `names` under `id` (unique). A handler that throws is detached and the
 * error logged (category `telemetry`): observing must never break a call.
 * @example telemetry.attach('slow-calls', ['snakepit.call.stop'], (_e, { durationMs }, { tool }) => durationMs > 1000 && console.warn(tool));
 */
export function attach<N extends TelemetryEventName>(id: string, names: N | readonly N[], handler: TelemetryHandler<N>): void {
  const list = (typeof names === 'string' ? [names] : [...names]) as N[];
  if (attachments.has(id)) throw new ValidationError(`A telemetry handler with id '${id}' is already attached`, 'duplicate_handler', { id });
  for (const name of list) channelOf(name);
  const listener = (message: unknown) => {
    const { event, measurements, metadata } = message as TelemetryMessage<N>;
    try {
      handler(event, measurements, metadata);
    } catch (error) {
      detach(id);
      logger.error(`Telemetry handler '${id}' threw on ${event} and was detached: ${(error as Error)?.message ?? String(error)}`, { handlerId: id, event });
    }
  };
  for (const name of list) channelOf(name).subscribe(listener);
  attachments.set(id, { names: list, listener });
  for (const hook of subscriptionHooks) hook();
}

/** Same as `attach`: the original's `attach_many` (one handler, many names). */
export const attachMany = attach;

/** Detaches handler `id`; returns whether it was attached. */
export function detach(id: string): boolean {
  const attachment = attachments.get(id);
  if (!attachment) return false;
  attachments.delete(id);
  for (const name of attachment.names) channelOf(name).unsubscribe(attachment.listener);
  for (const hook of subscriptionHooks) hook();
  return true;
}

/** Ids of the attached handlers and their names (for diagnostics). */
export function handlers(): { id: string; events: readonly TelemetryEventName[] }[] {
  return [...attachments].map(([id, a]) => ({ id, events: a.names }));
}

/** Every catalogued event name. */
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

// The resilience toolkit's hook predates the bus: forward its events under `snakepit.*`.
onResilienceEvent('*', (name, measurements, metadata) => emit(`snakepit.${name}`, measurements as never, metadata as never));
