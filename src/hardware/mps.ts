/** Apple Metal (MPS) on Apple Silicon (the original's `Hardware.MPSDetector`). */
import os from 'node:os';
import type { MpsInfo } from './types.js';

/**
 * Null off macOS. On macOS, MPS is available on Apple Silicon, whose GPU shares the machine's
 * memory: the device name is the chip's ("Apple M2 Pro"), the same sysctl value the original reads.
 */
export function detectMps(platform: NodeJS.Platform, arch: string): MpsInfo | null {
  if (platform !== 'darwin') return null;
  return {
    available: arch === 'arm64',
    deviceName: os.cpus()[0]?.model ?? 'Apple GPU',
    memoryTotalMb: Math.floor(os.totalmem() / 2 ** 20),
  };
}
