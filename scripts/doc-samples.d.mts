// Types for scripts/doc-samples.mjs (plain Node, imported by test/docs/*.test.ts).
export interface LineError { line: number; message: string }
export interface Block {
  lang: string;
  marker: string | null;
  markerLine: number | null;
  openLine: number;
  closeLine: number;
  indent: string;
  body: string[];
}
export const MARKED_LANGUAGES: Set<string>;
export function splitLines(text: string): string[];
export function parseRegions(text: string): { whole: string[]; regions: Map<string, string[]>; errors: LineError[] };
export function parseMarkdown(text: string): { blocks: Block[]; errors: LineError[] };
export function resolveSample(root: string, target: string, cache?: Map<string, unknown>): { lines: string[] } | { error: string };
export function processMarkdown(
  root: string,
  file: string,
  text: string,
  options?: { fix?: boolean; cache?: Map<string, unknown> },
): { problems: string[]; text: string };
export function documentationFiles(root: string): string[];
export function unreferencedExamples(root: string): string[];
