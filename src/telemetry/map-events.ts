/** A map's events (`sp.map`): `snakepit.map.start` → `.progress` as results arrive → `.stop`; a `hasSubscribers` check each when nobody listens. */
import type { MapProgress } from '../pool/map-options.js';
import { emit, enabled } from './bus.js';

/** What every event of one map carries. */
export interface MapEventMeta {
  pool: string;
  tool: string;
  correlationId: string;
  mode: 'fail' | 'settle';
  sessionId?: string | undefined;
}

export function mapStarted(meta: MapEventMeta, total: number): void {
  if (enabled('snakepit.map.start')) emit('snakepit.map.start', { total, systemTime: Date.now() }, meta);
}

export function mapProgressed(meta: MapEventMeta, progress: MapProgress): void {
  if (enabled('snakepit.map.progress')) emit('snakepit.map.progress', { ...progress }, meta);
}

/** The map settled: resolved (`error` undefined) or rejected with `error`. */
export function mapStopped(meta: MapEventMeta, startedAt: number, progress: MapProgress, chunks: number, error: unknown): void {
  if (!enabled('snakepit.map.stop')) return;
  const code = (error as { code?: unknown } | undefined)?.code;
  emit(
    'snakepit.map.stop',
    { durationMs: performance.now() - startedAt, done: progress.done, failed: progress.failed, chunks },
    { ...meta, ok: error === undefined, code: typeof code === 'string' ? code : undefined },
  );
}
