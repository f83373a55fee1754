/** What every benchmark prints first and keeps last: the machine it ran on, and its raw figures. */
import { mkdir, writeFile } from "node:fs/promises";
import { cpus, totalmem } from "node:os";

/** The first line of a run's output: which bench, when, on how many cores. */
export function runHeader(bench: string, startedAt: Date): string {
  const gb = Math.round(totalmem() / 1024 ** 3);
  return `# bench:${bench} ${startedAt.toISOString()} — ${cpus().length} cores, ${gb} GB, Node ${process.version}`;
}

/** Writes a run's raw figures to bench/out/<bench>-<start time>.json (not committed); returns the path. */
export async function saveRawFigures(bench: string, startedAt: Date, figures: object): Promise<string> {
  await mkdir("bench/out", { recursive: true });
  const file = `bench/out/${bench}-${startedAt.toISOString().replace(/[:.]/g, "-")}.json`;
  await writeFile(file, JSON.stringify({ startedAt, argv: process.argv.slice(2), ...figures }, null, 2));
  return file;
}
