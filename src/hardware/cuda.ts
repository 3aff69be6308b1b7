/** NVIDIA GPUs through nvidia-smi (the original's `Hardware.CUDADetector`). */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { firstLine, probe } from './probe.js';
import type { CudaDevice, CudaInfo } from './types.js';

const FIELDS = ['index', 'name', 'memory.total', 'memory.free', 'compute_cap', 'driver_version'] as const;
const csvArgs = (fields: readonly string[]) => [`--query-gpu=${fields.join(',')}`, '--format=csv,noheader,nounits'];

/** The CUDA info, or null (with a warning when nvidia-smi is there but says nothing usable). */
export async function detectCuda(env: NodeJS.ProcessEnv, timeoutMs: number, warnings: string[]): Promise<CudaInfo | null> {
  let withCap = true;
  let r = await probe('nvidia-smi', csvArgs(FIELDS), env, timeoutMs);
  if (r.status === 'failed' && /compute_cap/.test(r.detail)) {
    // Drivers before ~510 do not know `compute_cap`: ask again without it.
    withCap = false;
    r = await probe('nvidia-smi', csvArgs(FIELDS.filter((f) => f !== 'compute_cap')), env, timeoutMs);
  }
  if (r.status === 'missing') return null;
  if (r.status === 'failed') {
    warnings.push(`CUDA not available: ${r.detail}`);
    return null;
  }
  const { devices, driverVersion, unreadable } = parseGpuCsv(r.stdout, withCap);
  if (unreadable.length > 0) warnings.push(`nvidia-smi printed lines we could not read, ignored: ${firstLine(unreadable.join('\n'))}`);
  if (devices.length === 0 || driverVersion === undefined) return null;
  return { version: await cudaVersion(env, timeoutMs), driverVersion, cudnnVersion: await cudnnVersion(env), devices };
}

/**
 * Parses `--query-gpu=index,name,memory.total,memory.free[,compute_cap],driver_version
 * --format=csv,noheader,nounits`: one `0, NVIDIA A100-SXM4-80GB, 81920, 81050, 8.0, 535.104.05`
 * line per GPU. Fields are counted from both ends, so a comma in a name survives.
 */
export function parseGpuCsv(stdout: string, withCap: boolean): { devices: CudaDevice[]; driverVersion: string | undefined; unreadable: string[] } {
  const devices: CudaDevice[] = [];
  const unreadable: string[] = [];
  let driverVersion: string | undefined;
  const tail = withCap ? 4 : 3;
  for (const line of stdout.split('\n').map((l) => l.trim()).filter((l) => l !== '')) {
    const parts = line.split(',').map((p) => p.trim());
    if (parts.length < tail + 2) {
      unreadable.push(line);
      continue;
    }
    const id = Number(parts[0]);
    const name = parts.slice(1, parts.length - tail).join(', ');
    const [total, free, ...rest] = parts.slice(parts.length - tail);
    const cap = withCap ? rest[0] : undefined;
    const driver = rest.at(-1);
    if (!/^\d+$/.test(parts[0] ?? '') || !/^\d+$/.test(total ?? '') || !/^\d+(\.\d+)+$/.test(driver ?? '') || name === '') {
      unreadable.push(line);
      continue;
    }
    driverVersion ??= driver;
    // MIG and some vGPU setups print "[N/A]" for free memory or compute capability: unknown, not garbage.
    const freeMb = /^\d+$/.test(free ?? '') ? Number(free) : null;
    devices.push({ id, name, memoryTotalMb: Number(total), memoryFreeMb: freeMb, computeCapability: cap !== undefined && /^\d+\.\d+$/.test(cap) ? cap : null });
  }
  return { devices, driverVersion, unreadable };
}

/** "CUDA Version: 12.2" from nvidia-smi's banner, else "release 12.1" from nvcc. */
async function cudaVersion(env: NodeJS.ProcessEnv, timeoutMs: number): Promise<string | null> {
  const smi = await probe('nvidia-smi', [], env, timeoutMs);
  const fromSmi = smi.status === 'ok' ? /CUDA Version:\s*(\d+\.\d+)/.exec(smi.stdout)?.[1] : undefined;
  if (fromSmi) return fromSmi;
  const nvcc = await probe('nvcc', ['--version'], env, timeoutMs);
  return (nvcc.status === 'ok' ? /release (\d+\.\d+)/.exec(nvcc.stdout)?.[1] : undefined) ?? null;
}

/** cuDNN's version from its header, where CUDA installs put it. */
async function cudnnVersion(env: NodeJS.ProcessEnv): Promise<string | null> {
  const roots = [env.CUDA_HOME, env.CUDA_PATH, '/usr/local/cuda', '/usr'].filter((r): r is string => !!r);
  const candidates = roots.flatMap((root) => ['cudnn_version.h', 'cudnn.h'].map((file) => path.join(root, 'include', file)));
  candidates.push('/usr/include/x86_64-linux-gnu/cudnn_version_v9.h', '/usr/include/x86_64-linux-gnu/cudnn_version_v8.h');
  for (const file of candidates) {
    const text = await readFile(file, 'utf8').catch(() => undefined);
    const version = text === undefined ? undefined : parseCudnnHeader(text);
    if (version) return version;
  }
  return null;
}

/** `#define CUDNN_MAJOR 8` / `MINOR 9` / `PATCHLEVEL 0` -> "8.9.0". */
export function parseCudnnHeader(text: string): string | undefined {
  const get = (name: string) => new RegExp(String.raw`#define\s+CUDNN_${name}\s+(\d+)`).exec(text)?.[1];
  const major = get('MAJOR');
  const minor = get('MINOR');
  if (major === undefined || minor === undefined) return undefined;
  return [major, minor, get('PATCHLEVEL')].filter((p) => p !== undefined).join('.');
}
