import pino from "pino";
import { createDatabase } from "../src/db/client.js";
import { startCluster } from "./engine.js";
import { seed } from "./ui.js";
import { readFileSync } from "node:fs";

const log = pino({ level: "warn" }, pino.destination(2));
const cluster = await startCluster(log);
try {
  const url = await cluster.createDatabase("plans");
  const database = createDatabase(url, { max: 4 });
  console.log(await seed(database));
  // Reads SQL statements from a file each round, separated by ';;', until the file says "quit".
  const seen = new Set<string>();
  for (;;) {
    const text = readFileSync("/tmp/scratch/queries.sql", "utf8");
    if (text.trim() === "quit") break;
    if (!seen.has(text)) {
      seen.add(text);
      for (const statement of text.split(";;").map((s) => s.trim()).filter(Boolean)) {
        const started = performance.now();
        try {
          const rows = await database.sql.unsafe(statement);
          console.log(`--- ${Math.round(performance.now() - started)} ms: ${statement.slice(0, 100).replace(/\s+/g, " ")}`);
          for (const row of rows.slice(0, 80)) console.log(Object.values(row).join(" | "));
        } catch (error) {
          console.log("ERROR", (error as Error).message);
        }
      }
      console.log("=== done");
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  await database.close();
} finally {
  await cluster.stop();
}
process.exit(0);
