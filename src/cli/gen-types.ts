/** `snakepit gen types` on screen: one listr2 task per pool while its adapter loads, then the file written or checked. */
import { Listr } from 'listr2';
import type { AdapterTypeSpec } from '../typed/type-spec.js';
import { extractPoolTypes } from '../typegen/extract.js';
import { planTypes, specsDocument, writeTypes, type GenTypesOptions, type GenTypesResult, type TypeSpecsDocument } from '../typegen/generate.js';

/**
 * Extracts every selected pool's tool specs under listr2 (a live list on a terminal, plain lines
 * otherwise, nothing with `quiet`), then writes the declaration file, or with `check` compares it.
 * With `specsOnly` it writes nothing and resolves with the specs document (`--json`).
 * Rejects with the first pool's failure (`adapter_import`, with Python's traceback).
 */
export async function runGenTypes(options: GenTypesOptions & { check?: boolean; specsOnly: true; quiet?: boolean }): Promise<TypeSpecsDocument>;
export async function runGenTypes(options: GenTypesOptions & { check?: boolean; specsOnly?: false; quiet?: boolean }): Promise<GenTypesResult>;
export async function runGenTypes(options: GenTypesOptions & { check?: boolean; specsOnly?: boolean; quiet?: boolean }): Promise<GenTypesResult | TypeSpecsDocument> {
  const plan = await planTypes(options);
  const specs = new Map<string, AdapterTypeSpec>();
  let failure: unknown;
  const list = new Listr(
    plan.selected.map((pool) => ({
      title: `Pool ${pool.name}: loading ${pool.adapter}`,
      task: async (_ctx: unknown, task: { title: string }) => {
        const spec = await extractPoolTypes(pool, { cwd: plan.cwd }).catch((error: unknown) => {
          // The list marks the pool with one line; the command prints the error with its traceback.
          failure ??= error;
          throw new Error(`${pool.adapter} did not load`);
        });
        specs.set(pool.name, spec);
        task.title = `Pool ${pool.name}: ${spec.tools.length} tool${spec.tools.length === 1 ? '' : 's'} from ${pool.adapter}`;
      },
    })),
    {
      concurrent: true,
      exitOnError: true,
      renderer: options.quiet ? 'silent' : 'default',
      fallbackRenderer: 'simple',
    },
  );
  await list.run().catch((error: unknown) => {
    throw failure ?? error;
  });
  if (options.specsOnly) return specsDocument(plan, specs);
  return writeTypes(plan, specs, { check: options.check ?? false });
}
