/**
 * SIGINT/SIGTERM for library use: while an instance runs, and only when nothing else in the
 * process listens for the signal, stop every instance gracefully, then let the signal end the
 * process as it would have (exit status 128 + signal number). Any listener of the application's
 * own takes precedence: adding one is how an application keeps control of its shutdown.
 */
import os from 'node:os';

const SIGNALS = ['SIGINT', 'SIGTERM'] as const;
type HandledSignal = (typeof SIGNALS)[number];

/** How long the re-raised signal may take before we exit explicitly. */
const RERAISE_FALLBACK_MS = 1_000;

let stopAll: (() => Promise<unknown>) | undefined;
let installed = false;
let stopping = false;

function exitCode(signal: HandledSignal): number {
  return 128 + os.constants.signals[signal];
}

function onSignal(signal: HandledSignal): void {
  // Ours is one listener; any other means the application handles this signal itself.
  if (process.listenerCount(signal) > 1) return;
  if (stopping) {
    // A second signal while stopping: leave now; the exit hook SIGKILLs the worker groups.
    process.exit(exitCode(signal));
  }
  stopping = true;
  process.stderr.write(`\n[snakepit] ${signal} received, stopping workers…\n`);
  const stop = stopAll ?? (() => Promise.resolve());
  void stop()
    .catch(() => {})
    .finally(() => {
      uninstall();
      // Re-raise with the default disposition, so a parent sees the real cause of death.
      process.kill(process.pid, signal);
      setTimeout(() => process.exit(exitCode(signal)), RERAISE_FALLBACK_MS);
    });
}

const listeners: Record<HandledSignal, () => void> = { SIGINT: () => onSignal('SIGINT'), SIGTERM: () => onSignal('SIGTERM') };

function uninstall(): void {
  if (!installed) return;
  installed = false;
  for (const signal of SIGNALS) process.off(signal, listeners[signal]);
}

/**
 * Installs (`active`) or removes the handlers; `stop` stops every running instance. Called by the
 * facade whenever its set of running instances changes.
 */
export function setSignalHandling(active: boolean, stop: () => Promise<unknown>): void {
  stopAll = stop;
  if (active && !installed && !stopping) {
    installed = true;
    for (const signal of SIGNALS) process.on(signal, listeners[signal]);
  } else if (!active && !stopping) {
    uninstall();
  }
}
