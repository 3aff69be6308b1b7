/**
 * OpenTelemetry spans through `@opentelemetry/api`: one client span per call, a child of the
 * caller's active span, with the W3C `traceparent` put into the call's request metadata so
 * Python code can continue the trace. The API is a no-op until the app installs an SDK; even so
 * tracing is off until `enableTracing()`, so calls pay nothing by default.
 */
import { SpanKind, SpanStatusCode, context, isSpanContextValid, trace, type Span } from '@opentelemetry/api';

let on = false;

/** Turns call spans on (or off). @default off */
export function enableTracing(enabled = true): void {
  on = enabled;
}

/** Whether call spans are on. */
export function tracingEnabled(): boolean {
  return on;
}

/** The W3C `traceparent` of a span (undefined for a non-recording span without a valid context). */
export function traceparentOf(span: Span): string | undefined {
  const sc = span.spanContext();
  if (!isSpanContextValid(sc)) return undefined;
  return `00-${sc.traceId}-${sc.spanId}-${(sc.traceFlags & 0xff).toString(16).padStart(2, '0')}`;
}

/** Starts a call's span; returns its `traceparent` (to send with the call) and how to end it. */
export function startCallSpan(pool: string, tool: string, call: { correlationId?: string | undefined }, stream: boolean): { traceparent: string | undefined; end(error?: unknown): void } {
  const span = trace.getTracer('snakepit').startSpan(
    `snakepit.call ${tool}`,
    {
      kind: SpanKind.CLIENT,
      attributes: { 'snakepit.pool': pool, 'snakepit.tool': tool, 'snakepit.stream': stream, 'snakepit.correlation_id': call.correlationId ?? '' },
    },
    context.active(),
  );
  return {
    traceparent: traceparentOf(span),
    end(error?: unknown) {
      if (error !== undefined) {
        const code = (error as { code?: unknown } | null)?.code;
        span.setStatus({ code: SpanStatusCode.ERROR, message: typeof code === 'string' ? code : String((error as Error)?.message ?? error) });
        if (error instanceof Error) span.recordException(error);
      }
      span.end();
    },
  };
}
