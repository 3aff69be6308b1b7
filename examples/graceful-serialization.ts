// Graceful serialization: `npx snakepit run examples/graceful-serialization.ts --config examples/graceful-serialization.config.ts`.
// The TypeScript blocks of guides/graceful-serialization.md are regions of this file.
import { execute, isSnakepitError, Snakepit } from 'snakepit';

// #region marker
const isUnserializable = (v: unknown): v is { type: string; repr: string } =>
  typeof v === 'object' && v !== null && (v as Record<string, unknown>).__snakepit_unserializable__ === true;

const result = await execute<Record<string, unknown>>('mixed');
for (const [key, value] of Object.entries(result)) {
  if (isUnserializable(value)) console.log(`${key}: no mapping for ${value.type} (${value.repr.slice(0, 20)}...)`);
  else console.log(`${key}: ${typeof value === 'bigint' ? `${value}n` : JSON.stringify(value)}`);
}
// #endregion marker

// #region strict
// The same tool under `serialization: 'strict'`: the call fails instead.
const strict = await Snakepit.start({
  pools: [{ name: 'strict', poolSize: 1, adapter: 'serialization_adapter.SerializationAdapter', pythonPath: ['./examples/python'] }],
  serialization: 'strict',
});
try {
  await strict.execute('mixed', {}, { pool: 'strict' });
} catch (error) {
  if (isSnakepitError(error)) console.log(`strict: ${error.code}, type ${String(error.details?.type)}`);
} finally {
  await strict.stop();
}
// #endregion strict
