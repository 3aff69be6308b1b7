/** Imperative entry of the dashboard for the command (which never builds React elements itself). */
import { render } from 'ink';
import { createElement as h } from 'react';
import { StatusApp } from './status-dashboard.js';
import type { StatusSource } from './use-status.js';

/** Options of `renderStatusDashboard`. */
export interface StatusDashboardOptions {
  source: StatusSource;
  /** Poll interval in ms. @default 1000 */
  intervalMs?: number;
}

/** Renders the live dashboard on the terminal; resolves when the user quits (q or Ctrl-C). */
export async function renderStatusDashboard(options: StatusDashboardOptions): Promise<void> {
  const app = render(h(StatusApp, { source: options.source, intervalMs: options.intervalMs ?? 1_000 }));
  await app.waitUntilExit();
}
