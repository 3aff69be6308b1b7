/** AMD GPUs through rocm-smi (the original's `Hardware.ROCmDetector`). */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { firstLine, probe } from './probe.js';
import type { RocmDevice, RocmInfo } from './types.js';

const ARGS = ['--showproductname', '--showmeminfo', 'vram', '--showdriverversion', '--json'];

/** The ROCm info, or null (with a warning when rocm-smi is there but says nothing usable). */
export async function detectRocm(env: NodeJS.ProcessEnv, timeoutMs: number, warnings: string[]): Promise<RocmInfo | null> {
  const r = await probe('rocm-smi', ARGS, env, timeoutMs);
  if (r.status === 'missing') return null;
  if (r.status === 'failed') {
    warnings.push(`ROCm not available: ${r.detail}`);
    return null;
  }
  const parsed = parseRocmJson(r.stdout);
  if (parsed === undefined) {
    warnings.push(`rocm-smi printed output we could not read: ${firstLine(r.stdout)}`);
    return null;
  }
  if (parsed.devices.length === 0) return null;
  return { version: (await rocmVersion(env)) ?? parsed.driverVersion ?? null, devices: parsed.devices };
}

/**
 * Parses `rocm-smi --showproductname --showmeminfo vram --showdriverversion --json`:
 * `{"card0": {"Card series": "...", "VRAM Total Memory (B)": "68702699520", "VRAM Total Used Memory (B)": "..."}, "system": {"Driver version": "6.2.4"}}`.
 * Key case differs between rocm-smi versions, so keys are matched case-insensitively.
 * Undefined when it is not such JSON.
 */
export function parseRocmJson(stdout: string): { devices: RocmDevice[]; driverVersion: string | undefined } | undefined {
  let data: unknown;
  try {
    // rocm-smi may print warnings before the JSON object.
    const start = stdout.indexOf('{');
    data = JSON.parse(start < 0 ? stdout : stdout.slice(start));
  } catch {
    return undefined;
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return undefined;
  const devices: RocmDevice[] = [];
  let driverVersion: string | undefined;
  for (const [key, value] of Object.entries(data as Record<string, unknown>)) {
    if (typeof value !== 'object' || value === null) continue;
    const field = (name: string) => {
      const hit = Object.entries(value).find(([k]) => k.toLowerCase() === name.toLowerCase());
      return hit === undefined ? undefined : String(hit[1]);
    };
    const card = /^card(\d+)$/.exec(key);
    if (!card) {
      driverVersion ??= field('Driver version');
      continue;
    }
    const total = Number(field('VRAM Total Memory (B)'));
    const used = Number(field('VRAM Total Used Memory (B)') ?? 0);
    if (!Number.isFinite(total)) continue;
    const name = field('Card series') ?? field('Device Name') ?? field('Card model') ?? `AMD GPU ${card[1]}`;
    const mb = (bytes: number) => Math.floor(bytes / 2 ** 20);
    devices.push({ id: Number(card[1]), name, memoryTotalMb: mb(total), memoryFreeMb: mb(Math.max(0, total - used)) });
  }
  return { devices: devices.sort((a, b) => a.id - b.id), driverVersion };
}

/** "6.2.4-121" in $ROCM_PATH/.info/version -> "6.2.4". */
async function rocmVersion(env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const text = await readFile(path.join(env.ROCM_PATH ?? '/opt/rocm', '.info', 'version'), 'utf8').catch(() => undefined);
  return text === undefined ? undefined : /^\d+\.\d+(\.\d+)?/.exec(text.trim())?.[0];
}
