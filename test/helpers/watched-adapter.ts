// An adapter source the watch tests edit: each version has its own length (Python's bytecode cache checks size and mtime).

/** The source of `watched_adapter.WatchedAdapter` at `version` (tools `version`, `slow`), plus `extra` lines in the class. */
export function watchedAdapter(version: number, extra = ''): string {
  return [
    'import time',
    'from snakepit_bridge.base_adapter import BaseAdapter, tool',
    '',
    `VERSION = "v${version}${'.'.repeat(version)}"`,
    '',
    'class WatchedAdapter(BaseAdapter):',
    '    @tool',
    '    def version(self) -> str:',
    '        return VERSION',
    '',
    '    @tool',
    '    def slow(self, ms: int = 300) -> str:',
    '        time.sleep(ms / 1000)',
    '        return VERSION',
    extra,
    '',
  ].join('\n');
}
