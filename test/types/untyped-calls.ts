// Type tests: without generated tool types every call is typed exactly as before the registry existed.
// Compiled by `tsc -p tsconfig.json` and by test/unit/typed/type-tests.test.ts (which expects no diagnostics).
import { expectTypeOf } from 'vitest';
import { execute, executeStream, map, mapIterable, session, stream, type ExecuteOptions, type Session, type Snakepit } from '../../src/index.js';

declare const sp: Snakepit;
declare const dynamicTool: string;
declare const args: Record<string, unknown>;

export async function untypedCalls(): Promise<void> {
  expectTypeOf(execute('anything', { x: 1 })).toEqualTypeOf<Promise<unknown>>();
  expectTypeOf(execute<{ n: number }>('anything')).toEqualTypeOf<Promise<{ n: number }>>();
  expectTypeOf(sp.execute(dynamicTool, args, { pool: 'any', timeoutMs: 5 })).toEqualTypeOf<Promise<unknown>>();
  expectTypeOf(sp.execute<string[]>('x', {}, { pool: 'other' })).toEqualTypeOf<Promise<string[]>>();
  expectTypeOf(stream<string>('x')).toEqualTypeOf<AsyncIterableIterator<string>>();
  expectTypeOf(sp.stream('x', args)).toEqualTypeOf<AsyncIterableIterator<unknown>>();
  expectTypeOf(session('s', { pool: 'p', ttlMs: 1 })).toExtend<Session>();
  expectTypeOf(sp.session('s').execute(dynamicTool, args)).toEqualTypeOf<Promise<unknown>>();
  expectTypeOf(sp.session('s').stream<number>('x')).toEqualTypeOf<AsyncIterableIterator<number>>();
  // Maps: an array of results, or of settled results in settle mode; the iterable form alike.
  expectTypeOf(sp.map('x', [args])).toEqualTypeOf<Promise<unknown[]>>();
  expectTypeOf(map<number>('x', [args], { chunkSize: 10 })).toEqualTypeOf<Promise<number[]>>();
  expectTypeOf(sp.map<number>('x', [args], { mode: 'settle' })).toEqualTypeOf<Promise<PromiseSettledResult<number>[]>>();
  expectTypeOf(sp.session('s').map<string>('x', new Set([args]))).toEqualTypeOf<Promise<string[]>>();
  expectTypeOf(mapIterable<number>('x', [args])).toEqualTypeOf<AsyncIterableIterator<number>>();
  expectTypeOf(sp.mapIterable('x', [args], { mode: 'settle', pool: 'p' })).toEqualTypeOf<AsyncIterableIterator<PromiseSettledResult<unknown>>>();
  // The result type may come from the context, and a typed callback sets the chunk type, as before.
  const fromContext: Promise<number> = sp.execute('x');
  await executeStream('x', {}, (chunk: { n: number }) => expectTypeOf(chunk.n).toEqualTypeOf<number>());
  await sp.session('s').executeStream('x', args, (chunk: string, info) => expectTypeOf(info.final).toEqualTypeOf<boolean>() && chunk);
  // The methods still fit a plain function type, and explicit type arguments still set the chunk type.
  const plain: (tool: string, args?: Record<string, unknown>, options?: ExecuteOptions) => Promise<unknown> = sp.execute.bind(sp);
  await sp.executeStream<{ n: number }>('x', {}, (chunk) => expectTypeOf(chunk).toEqualTypeOf<{ n: number }>());
  void plain;
  // @ts-expect-error arguments are an object
  await sp.execute('x', 5);
  // @ts-expect-error the tool name is a string
  await execute(42);
  void fromContext;
}
