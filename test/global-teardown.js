import fs from "node:fs/promises";

export default async function globalTeardown() {
  const pg = globalThis.__prPulsePostgres;
  if (!pg) return;
  await pg.stop();
  await fs.rm(pg.dataDir, { recursive: true, force: true });
}
