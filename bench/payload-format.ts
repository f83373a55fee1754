/**
 * `npx tsx bench/payload-format.ts`: what each way of storing a payload (`PayloadFormat`) costs
 * the intake's event loop and Postgres, the rest of the intake left out. GitHub's example
 * pull_request.synchronize payload (23.7 KB, numbered so that no two are alike), its text and
 * bytes made beforehand as the route has them, stored `--rows` times a round through `storable`
 * and `insertDeliveries`, `--per-commit` a transaction (a group commit), the formats alternating
 * for `--rounds` rounds. CPU time of this process's main thread and of every Postgres process,
 * read from /proc (Linux). `text` needs a server with lz4 (BENCH_POSTGRES_BIN=/usr/lib/postgresql/15/bin:
 * Debian's); on the embedded one `payload_text` is pglz.
 */
import { parseArgs } from "node:util";
import pino from "pino";
import { createDatabase, withTransaction } from "../src/db/client.js";
import {
  insertDeliveries,
  payloadFormat,
  storable,
  type PayloadFormat,
} from "../src/db/queries/webhook-deliveries.js";
import { numberedDeliveries } from "./deliveries.js";
import { startCluster } from "./engine.js";
import { mainThreadCpuMs, postgresCpuMs } from "./cpu.js";

const { values } = parseArgs({
  options: {
    rows: { type: "string", default: "6400" },
    "per-commit": { type: "string", default: "64" },
    rounds: { type: "string", default: "3" },
  },
});
const ROWS = Number(values.rows);
const PER_COMMIT = Number(values["per-commit"]);
const ROUNDS = Number(values.rounds);

const cluster = await startCluster(pino({ level: "warn" }));
try {
  const database = createDatabase(await cluster.createDatabase(`payload_format_${Date.now()}`), { max: 4 });
  const { sql } = database;
  const [server] = await sql<{ version: string; compression: string }[]>`
    select current_setting('server_version') as version,
      (select attcompression from pg_attribute
       where attrelid = 'webhook_deliveries'::regclass and attname = 'payload_text') as compression`;
  console.log(
    `# Postgres ${server!.version}, payload_text compression '${server!.compression}' (l = lz4), ` +
      `detected format ${await payloadFormat(database.db)}; ${ROWS} deliveries a round, ${PER_COMMIT} a commit`,
  );
  const numbered = numberedDeliveries();
  const measure = async (format: PayloadFormat) => {
    const rows = numbered(ROWS);
    await sql`checkpoint`;
    const pg = await postgresCpuMs(sql);
    const main = await mainThreadCpuMs();
    const started = performance.now();
    for (let i = 0; i < rows.length; i += PER_COMMIT) {
      const batch = rows.slice(i, i + PER_COMMIT).map((row) => storable(row, format));
      await withTransaction(database, (db) => insertDeliveries(db, batch));
    }
    const wallMs = performance.now() - started;
    const mainMs = (await mainThreadCpuMs()) - main;
    const pgMs = (await postgresCpuMs(sql)) - pg;
    const [size] = await sql<{ bytes: number }[]>`
      select avg(pg_column_size(${sql(format === "text" ? "payload_text" : "payload_gzip")}))::float8 as bytes
      from webhook_deliveries where id = any(${rows.slice(0, 500).map((row) => row.id)})`;
    console.log(
      `${format.padEnd(5)} main thread ${(mainMs / ROWS).toFixed(3)} ms, Postgres ${(pgMs / ROWS).toFixed(3)} ms, ` +
        `wall ${(wallMs / ROWS).toFixed(3)} ms a delivery; ${Math.round(size!.bytes)} bytes a payload (pg_column_size)`,
    );
  };
  await measure("gzip"); // warm-up, not counted
  await measure("text");
  console.log("# (warm-up above)");
  for (let round = 0; round < ROUNDS; round++) {
    await measure("gzip");
    await measure("text");
  }
  await database.close();
} finally {
  await cluster.stop();
}
