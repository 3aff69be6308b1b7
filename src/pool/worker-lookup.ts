/** Finding one of a pool's workers by id for a caller (`workerId`, recycle, remove), and the `unknown_worker` error naming the others. */
import { ValidationError } from '../errors.js';
import { isLive } from './crash-barrier.js';

/** The `unknown_worker` error: `workerId` is not a live worker of `pool`; `details.workers` lists those that are. */
export function unknownWorkerError(pool: string, workerId: string, workers: readonly { id: string; state: string }[]): ValidationError {
  const ids = workers.filter(isLive).map((w) => w.id);
  return new ValidationError(`Unknown worker '${workerId}' in pool ${pool} (workers: ${ids.join(', ') || 'none'})`, 'unknown_worker', { pool, workerId, workers: ids });
}

/** The live worker `workerId` of `pool`; throws `unknown_worker` when it is not one (never was, is gone, or is draining to go). */
export function liveWorker<W extends { id: string; state: string }>(pool: string, workerId: string, workers: readonly W[]): W {
  const worker = workers.find((w) => w.id === workerId);
  if (worker && isLive(worker)) return worker;
  throw unknownWorkerError(pool, workerId, workers);
}
