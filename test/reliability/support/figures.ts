import fs from 'node:fs';
import path from 'node:path';

/** Where the suite leaves its figures: `test-artifacts/reliability-<scenario>.json` at the repository root. */
export const ARTIFACTS_DIR = path.resolve(__dirname, '../../../test-artifacts');

/** Writes one scenario's figures (merged into what earlier tests of the same file wrote). */
export function writeFigures(scenario: string, figures: Record<string, unknown>): string {
  fs.mkdirSync(ARTIFACTS_DIR, { recursive: true });
  const file = path.join(ARTIFACTS_DIR, `reliability-${scenario}.json`);
  let previous: Record<string, unknown> = {};
  try {
    previous = JSON.parse(fs.readFileSync(file, 'utf8'));
    if (previous.runAt && Date.now() - Date.parse(String(previous.runAt)) > 15 * 60_000) previous = {};
  } catch {
    previous = {};
  }
  const merged = {
    ...previous,
    ...figures,
    runAt: new Date().toISOString(),
    database: process.env.DATABASE_URL ? 'DATABASE_URL' : 'embedded',
  };
  fs.writeFileSync(file, `${JSON.stringify(merged, null, 2)}\n`);
  return file;
}

/** Counts of each value, sorted by key, for compact figures. */
export function tally(values: Iterable<string>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const v of values) counts[v] = (counts[v] ?? 0) + 1;
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b)));
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

export function round(n: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}
