/**
 * Hardware detection and device selection (the original's `Snakepit.Hardware`). Detection runs
 * once per `Hardware` object and is cached until `clearCache()`; it never throws: a missing tool
 * means "not present", a tool that misbehaves adds a warning to the result.
 */
import { detectCpu } from './cpu.js';
import { detectCuda } from './cuda.js';
import { detectMps } from './mps.js';
import { detectRocm } from './rocm.js';
import { describeDevice, selectDevice, selectDeviceWithFallback, type DeviceInfo } from './selector.js';
import type { Accelerator, Capabilities, DetectOptions, Device, DevicePreference, HardwareIdentity, HardwareInfo } from './types.js';
import { traceDetect, traceSelect } from '../telemetry/hardware-events.js';

/** A probe that hangs (a wedged driver) must not hold a caller for long. */
export const DEFAULT_PROBE_TIMEOUT_MS = 5_000;

/** The API of `Hardware`; `createHardware(options)` makes one that looks elsewhere (tests, other hosts' PATH). */
export interface HardwareApi {
  /** Everything detected: accelerator, platform, cpu, cuda, mps, rocm, warnings. Cached. */
  detect(): Promise<HardwareInfo>;
  /** Alias of `detect`, as in the original. */
  info(): Promise<HardwareInfo>;
  /** Boolean flags (and versions) for quick checks. */
  capabilities(): Promise<Capabilities>;
  /**
   * A device by preference: `'auto'` (best available), `'cpu'` (always), `'cuda'`/`'rocm'`
   * (device 0), `'mps'`, `{ cuda: n }`/`{ rocm: n }`. Rejects with `HardwareError`
   * (`device_not_available`) when it is not there.
   * @example const device = await Hardware.select('auto'); // 'cuda:0' | 'mps' | 'rocm:0' | 'cpu'
   */
  select(preference: DevicePreference): Promise<Device>;
  /**
   * The first available of `preferences`; rejects with `HardwareError` (`no_device`) if none is.
   * @example await Hardware.selectWithFallback(['cuda', 'mps', 'cpu'])
   */
  selectWithFallback(preferences: readonly DevicePreference[]): Promise<Device>;
  /** Name, memory and compute capability of a selected device. */
  deviceInfo(device: Device): Promise<DeviceInfo>;
  /** What a lock file records about this machine. */
  identity(): Promise<HardwareIdentity>;
  /** Forgets the cached detection; the next call detects again. */
  clearCache(): void;
}

/** A `Hardware` that detects with `options` (PATH and env of the probes, platform, cpuinfo path). */
export function createHardware(options: DetectOptions = {}): HardwareApi {
  let cached: Promise<HardwareInfo> | undefined;
  const detect = () => traceDetect(cached !== undefined, () => (cached ??= detectHardware(options)));
  return {
    detect,
    info: detect,
    capabilities: async () => capabilitiesOf(await detect()),
    select: (preference) => traceSelect(preference, async () => selectDevice(await detect(), preference)),
    selectWithFallback: (preferences) => traceSelect(preferences, async () => selectDeviceWithFallback(await detect(), preferences)),
    deviceInfo: async (device) => describeDevice(await detect(), device),
    identity: async () => identityOf(await detect()),
    clearCache: () => {
      cached = undefined;
    },
  };
}

/**
 * The machine's hardware, detected with this process's environment.
 * @example
 * const { accelerator, cuda } = await Hardware.detect();
 * const device = await Hardware.selectWithFallback(['cuda', 'mps', 'cpu']);
 * await sp.execute('inference', { input, device });
 */
export const Hardware: HardwareApi = createHardware();

/** One uncached detection. The probes run side by side; each only adds warnings when it fails. */
export async function detectHardware(options: DetectOptions = {}): Promise<HardwareInfo> {
  const env = options.env ?? process.env;
  const timeoutMs = options.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
  const platform = options.platform ?? process.platform;
  const arch = options.arch ?? process.arch;
  const warnings: string[] = [];
  const [cpu, cuda, rocm] = await Promise.all([
    detectCpu(platform, options.cpuinfoPath ?? '/proc/cpuinfo'),
    // nvidia-smi and rocm-smi do not exist on macOS; asking would only cost a spawn.
    platform === 'darwin' ? null : detectCuda(env, timeoutMs, warnings),
    platform === 'darwin' || platform === 'win32' ? null : detectRocm(env, timeoutMs, warnings),
  ]);
  const mps = detectMps(platform, arch);
  return { accelerator: acceleratorOf(cuda !== null, mps?.available === true, rocm !== null), platform: platformString(platform, arch), cpu, cuda, mps, rocm, warnings };
}

function acceleratorOf(cuda: boolean, mps: boolean, rocm: boolean): Accelerator {
  return cuda ? 'cuda' : mps ? 'mps' : rocm ? 'rocm' : 'cpu';
}

/** `linux-x86_64`, `linux-aarch64`, `darwin-arm64`, `win32-x86_64`: uname's names for the arch, as the original. */
export function platformString(platform: NodeJS.Platform | string, arch: string): string {
  const names: Record<string, string> = { x64: 'x86_64', ia32: 'i686', arm64: platform === 'darwin' ? 'arm64' : 'aarch64', arm: 'armv7l' };
  return `${platform}-${names[arch] ?? arch}`;
}

/** `capabilities()` of a detection. */
export function capabilitiesOf(info: HardwareInfo): Capabilities {
  const has = (f: string) => info.cpu.features.includes(f as never);
  return {
    cuda: info.cuda !== null,
    mps: info.mps?.available === true,
    rocm: info.rocm !== null,
    avx: has('avx'),
    avx2: has('avx2'),
    avx512: has('avx512'),
    cudaVersion: info.cuda?.version ?? null,
    cudnnVersion: info.cuda?.cudnnVersion ?? null,
    cudnn: info.cuda?.cudnnVersion != null,
  };
}

/** `identity()` of a detection. */
export function identityOf(info: HardwareInfo): HardwareIdentity {
  return {
    platform: info.platform,
    accelerator: info.accelerator,
    cpuFeatures: info.cpu.features,
    gpuCount: (info.cuda?.devices.length ?? 0) + (info.rocm?.devices.length ?? 0) + (info.mps?.available ? 1 : 0),
    cudaVersion: info.cuda?.version ?? null,
    cudnnVersion: info.cuda?.cudnnVersion ?? null,
    rocmVersion: info.rocm?.version ?? null,
    driverVersion: info.cuda?.driverVersion ?? null,
  };
}

