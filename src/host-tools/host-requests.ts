/**
 * Answers Python's requests to the host: host tools, the list of them, the session's state.
 * The session always comes from the call the request names (running on the asking worker),
 * never from what Python claims, so a worker only reaches the sessions it serves.
 */
import { ValidationError } from '../errors.js';
import { Logger } from '../logger.js';
import type { SessionStore } from '../session/session-store.js';
import type { HostRequest } from '../transport/types.js';
import { runBlocking } from './call-chain.js';
import type { HostToolSpec } from './host-tool.js';
import type { ToolRegistry } from './tool-registry.js';

/** The asking worker, as far as answering it needs. */
export interface AskingWorker {
  readonly id: string;
  readonly pool: string;
  callContext(callId: number): { sessionId: string | undefined; correlationId?: string | undefined } | undefined;
}

export interface HostRequestsOptions {
  registry: ToolRegistry;
  sessions: SessionStore;
  /** Timeout of host tools when neither Python nor the tool sets one. */
  hostToolTimeoutMs: number;
  /** Category `bridge` is set here. @default nowhere */
  logger?: Logger;
}

export class HostRequests {
  readonly #logger: Logger;

  constructor(private readonly options: HostRequestsOptions) {
    this.#logger = (options.logger ?? new Logger('none')).child({ category: 'bridge' });
  }

  /** Resolves with the reply value; rejects with the error Python receives. */
  async handle(worker: AskingWorker, request: HostRequest): Promise<unknown> {
    const { sessionId, correlationId } = this.#callOf(worker, request);
    const { registry, sessions } = this.options;
    switch (request.op) {
      case 'list':
        return registry.listExposed(sessionId).map((tool): HostToolSpec => tool.spec());
      case 'call': {
        if (sessionId !== undefined && sessions.has(sessionId)) sessions.recordHostToolCall(sessionId);
        const context = { sessionId, correlationId, workerId: worker.id, pool: worker.pool, timeoutMs: request.timeoutMs ?? this.options.hostToolTimeoutMs };
        // The tool runs while `worker` waits for it: calls it makes must not queue behind that worker.
        return runBlocking(worker, () => registry.invokeForPython(request.tool, request.args, context));
      }
      case 'state': {
        if (this.#logger.enabled('debug')) {
          this.#logger.debug(`Session state ${request.action} from worker ${worker.id}`, { workerId: worker.id, pool: worker.pool, sessionId, correlationId, action: request.action });
        }
        if (sessionId === undefined) {
          throw new ValidationError('Session state needs a call made in a session', 'no_session', { workerId: worker.id, callId: request.callId ?? null });
        }
        sessions.ensure(sessionId);
        switch (request.action) {
          case 'get_all':
            return sessions.stateSnapshot(sessionId);
          case 'set':
            sessions.setState(sessionId, requireKey(request.key), request.value);
            return null;
          case 'delete':
            sessions.deleteState(sessionId, requireKey(request.key));
            return null;
          case 'clear':
            sessions.clearState(sessionId);
            return null;
        }
      }
    }
  }

  /** The session and correlation id of the call a request names (none for no call). */
  #callOf(worker: AskingWorker, request: HostRequest): { sessionId: string | undefined; correlationId: string | undefined } {
    const { callId } = request;
    if (callId === undefined) return { sessionId: undefined, correlationId: undefined };
    const context = worker.callContext(callId);
    if (!context) {
      // A late request of a call that already ended (or a confused worker): Python gets the error.
      this.#logger.warn(`Worker ${worker.id} sent a ${request.op} request for call ${callId}, which is not running on it`, { workerId: worker.id, pool: worker.pool, callId, op: request.op });
      throw new ValidationError(`No call ${callId} is running on worker ${worker.id}`, 'unknown_call', { callId, workerId: worker.id });
    }
    return { sessionId: context.sessionId, correlationId: context.correlationId };
  }
}

function requireKey(key: string | undefined): string {
  if (typeof key !== 'string' || key.length === 0) {
    throw new ValidationError(`A state key must be a non-empty string, got ${JSON.stringify(key)}`, 'invalid_argument', { field: 'key', expected: 'a non-empty string', received: key ?? null });
  }
  return key;
}
