/** The shapes of hardware detection (the original's `Snakepit.Hardware` types, camelCased). */

/** The primary accelerator, by priority CUDA > MPS > ROCm > CPU. */
export type Accelerator = 'cpu' | 'cuda' | 'mps' | 'rocm';

/** A CPU feature Snakepit reports (normalised from /proc/cpuinfo flags or the OS's names). */
export type CpuFeature = 'sse' | 'sse2' | 'sse3' | 'ssse3' | 'sse4_1' | 'sse4_2' | 'avx' | 'avx2' | 'avx512' | 'fma' | 'f16c' | 'neon';

export interface CpuInfo {
  /** Physical cores. */
  cores: number;
  /** Logical processors (cores × hyper-threads). */
  threads: number;
  model: string;
  features: CpuFeature[];
  memoryTotalMb: number;
}

export interface CudaDevice {
  id: number;
  name: string;
  memoryTotalMb: number;
  /** Null when nvidia-smi reports it as `[N/A]` (MIG, some vGPUs). */
  memoryFreeMb: number | null;
  /** e.g. "8.6"; null with drivers too old to report it. */
  computeCapability: string | null;
}

export interface CudaInfo {
  /** The CUDA version the driver supports (nvidia-smi's "CUDA Version"), else nvcc's; null if neither says. */
  version: string | null;
  driverVersion: string;
  /** From cudnn_version.h under CUDA_HOME/CUDA_PATH or the usual include dirs; null when not found. */
  cudnnVersion: string | null;
  devices: CudaDevice[];
}

export interface MpsInfo {
  available: boolean;
  deviceName: string;
  /** Unified memory shared with the CPU. */
  memoryTotalMb: number;
}

export interface RocmDevice {
  id: number;
  name: string;
  memoryTotalMb: number;
  memoryFreeMb: number;
}

export interface RocmInfo {
  /** From $ROCM_PATH/.info/version (default /opt/rocm), else the driver version; null if neither. */
  version: string | null;
  devices: RocmDevice[];
}

/** `detect()`. */
export interface HardwareInfo {
  accelerator: Accelerator;
  /** e.g. `linux-x86_64`, `darwin-arm64`. */
  platform: string;
  cpu: CpuInfo;
  cuda: CudaInfo | null;
  mps: MpsInfo | null;
  rocm: RocmInfo | null;
  /**
   * What detection could not make sense of (a tool that failed, timed out or printed output we
   * cannot read). Such an accelerator is reported as absent; a tool that is not installed is
   * simply absent, without a warning.
   */
  warnings: string[];
}

/** `capabilities()`: flags for quick checks. */
export interface Capabilities {
  cuda: boolean;
  mps: boolean;
  rocm: boolean;
  avx: boolean;
  avx2: boolean;
  avx512: boolean;
  cudaVersion: string | null;
  cudnnVersion: string | null;
  cudnn: boolean;
}

/** A selected device, as PyTorch names it (`rocm:n` stays distinct from `cuda:n`, as in the original). */
export type Device = 'cpu' | 'mps' | `cuda:${number}` | `rocm:${number}`;

/** What `select` accepts. */
export type DevicePreference = 'auto' | 'cpu' | 'cuda' | 'mps' | 'rocm' | { cuda: number } | { rocm: number };

/** `identity()`: what a lock file records about the machine. Keys are stable; values JSON. */
export interface HardwareIdentity {
  platform: string;
  accelerator: Accelerator;
  cpuFeatures: CpuFeature[];
  gpuCount: number;
  cudaVersion: string | null;
  cudnnVersion: string | null;
  rocmVersion: string | null;
  driverVersion: string | null;
}

/**
 * `identity({ keys: 'snake_case' })`: the original's identity map (`Snakepit.Hardware.identity/0`),
 * key for key, so a `hardware.lock` written here matches one the original wrote on the same machine.
 */
export interface OriginalHardwareIdentity {
  platform: string;
  accelerator: Accelerator;
  cpu_features: CpuFeature[];
  gpu_count: number;
}

/** Options of `identity()`. */
export interface IdentityOptions {
  /** `'camelCase'`: our keys (with versions); `'snake_case'`: the original's four keys. @default 'camelCase' */
  keys?: 'camelCase' | 'snake_case';
}

/** Where detection looks; every field has a default, tests point them at fakes. */
export interface DetectOptions {
  /** Environment of the probes: `PATH` finds nvidia-smi, rocm-smi and nvcc; `CUDA_HOME`/`CUDA_PATH`, `ROCM_PATH` the version files. @default process.env */
  env?: NodeJS.ProcessEnv;
  /** Time one probe may take, in ms. @default 5000 */
  timeoutMs?: number;
  /** @default process.platform */
  platform?: NodeJS.Platform;
  /** @default process.arch */
  arch?: string;
  /** The cpuinfo file read on Linux. @default '/proc/cpuinfo' */
  cpuinfoPath?: string;
}
