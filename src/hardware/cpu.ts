/**
 * CPU model, cores, threads, features and memory (the original's `Hardware.CPUDetector`). On
 * Linux from /proc/cpuinfo (cheap, no process to spawn); elsewhere, or when cpuinfo lacks a
 * field (ARM has no "model name"), from systeminformation, loaded only then.
 */
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import type { CpuFeature, CpuInfo } from './types.js';

/** The order features are reported in. */
const FEATURES: readonly CpuFeature[] = ['sse', 'sse2', 'sse3', 'ssse3', 'sse4_1', 'sse4_2', 'avx', 'avx2', 'avx512', 'fma', 'f16c', 'neon'];

/** OS spellings of the same feature: Linux `pni` is SSE3, macOS says `AVX1.0` and `SSE4.1`, ARM `asimd`. */
const ALIASES: Record<string, CpuFeature> = { pni: 'sse3', 'avx1.0': 'avx', avx1_0: 'avx', 'sse4.1': 'sse4_1', 'sse4.2': 'sse4_2', asimd: 'neon', fma3: 'fma' };

/** Normalised features from a flags list (any case, any separator). */
export function normaliseCpuFlags(flags: readonly string[]): CpuFeature[] {
  const found = new Set<CpuFeature>();
  for (const raw of flags) {
    const flag = raw.toLowerCase();
    if (flag.startsWith('avx512')) found.add('avx512');
    const feature = ALIASES[flag] ?? (FEATURES as readonly string[]).find((f) => f === flag.replace('.', '_'));
    if (feature) found.add(feature as CpuFeature);
  }
  return FEATURES.filter((f) => found.has(f));
}

/** What /proc/cpuinfo tells, each field undefined when it does not. */
export function parseCpuinfo(text: string): { model?: string; threads?: number; cores?: number; flags?: string[] } {
  const processors = text.split(/\n\s*\n/).filter((block) => /^processor\s*:/m.test(block));
  const field = (block: string, name: string) => new RegExp(String.raw`^${name}\s*:\s*(.*)$`, 'm').exec(block)?.[1]?.trim();
  const first = processors[0] ?? text;
  const model = field(first, 'model name') ?? field(text, 'Model') ?? field(text, 'Hardware');
  const flags = (field(first, 'flags') ?? field(first, 'Features'))?.split(/\s+/).filter(Boolean);
  // Physical cores: distinct (package, core) pairs; x86 lists them, most ARM kernels do not.
  const pairs = new Set(processors.map((b) => `${field(b, 'physical id') ?? ''}/${field(b, 'core id') ?? ''}`).filter((p) => p !== '/'));
  const out: { model?: string; threads?: number; cores?: number; flags?: string[] } = {};
  if (model) out.model = model;
  if (processors.length > 0) out.threads = processors.length;
  if (pairs.size > 0) out.cores = pairs.size;
  if (flags) out.flags = flags;
  return out;
}

/** Detects the CPU. Never throws: what cannot be read falls back to Node's `os`. */
export async function detectCpu(platform: NodeJS.Platform, cpuinfoPath: string): Promise<CpuInfo> {
  let info: { model?: string; threads?: number; cores?: number; flags?: string[] } = {};
  if (platform === 'linux') {
    const text = await readFile(cpuinfoPath, 'utf8').catch(() => undefined);
    if (text !== undefined) info = parseCpuinfo(text);
  }
  if (info.model === undefined || info.cores === undefined || info.flags === undefined) info = { ...(await fromSysteminformation()), ...info };
  const threads = info.threads ?? (os.availableParallelism?.() || os.cpus().length || 1);
  return {
    cores: Math.min(info.cores ?? threads, threads),
    threads,
    model: info.model ?? os.cpus()[0]?.model ?? 'unknown',
    features: normaliseCpuFlags(info.flags ?? []),
    memoryTotalMb: Math.floor(os.totalmem() / 2 ** 20),
  };
}

/** systeminformation's view (macOS sysctl, Windows WMI, ...); empty when it fails. */
async function fromSysteminformation(): Promise<{ model?: string; cores?: number; flags?: string[] }> {
  try {
    const si = await import('systeminformation');
    const [cpu, flags] = await Promise.all([si.cpu(), si.cpuFlags()]);
    const model = [cpu.manufacturer, cpu.brand].filter(Boolean).join(' ').trim();
    const out: { model?: string; cores?: number; flags?: string[] } = {};
    if (model) out.model = model;
    if (cpu.physicalCores > 0) out.cores = cpu.physicalCores;
    if (flags) out.flags = flags.split(/\s+/).filter(Boolean);
    return out;
  } catch {
    return {};
  }
}
