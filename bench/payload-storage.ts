/**
 * `npx tsx bench/payload-storage.ts`: what storing a delivery's payload costs Postgres, by column
 * type and storage, measured as the CPU time of the Postgres processes (Linux /proc) on a throwaway
 * embedded Postgres. GitHub's example pull_request.synchronize payload (23.7 KB) is stored
 * `--rows` times, 64 a statement as the intake's group commit does, then read back 16 at a time as
 * the webhook worker does.
 */
import { parseArgs } from "node:util";
import pino from "pino";
import { createDatabase } from "../src/db/client.js";
import { webhookExample } from "../test/support/webhook-examples.js";
import { startCluster } from "./engine.js";
import { postgresCpuMs } from "./cpu.js";

const { values } = parseArgs({ options: { rows: { type: "string", default: "4000" } } });
const ROWS = Number(values.rows);
const PER_INSERT = 64;
const PER_SELECT = 16;

const variants = [
  { name: "jsonb, compressed (pglz)", type: "jsonb", storage: "extended" },
  { name: "jsonb, uncompressed", type: "jsonb", storage: "external" },
  { name: "json, compressed (pglz)", type: "json", storage: "extended" },
  { name: "json, uncompressed", type: "json", storage: "external" },
];

const cluster = await startCluster(pino({ level: "warn" }));
try {
  const database = createDatabase(await cluster.createDatabase(`payload_storage_${Date.now()}`), { max: 2 });
  const { sql } = database;
  const payload = webhookExample("pull_request", "synchronize");
  console.log(`# ${ROWS} payloads of ${JSON.stringify(payload).length} bytes; Postgres CPU per row`);
  for (const variant of variants) {
    await sql.unsafe(`drop table if exists payloads; create table payloads (id text primary key,
      received_at timestamptz not null default now(), payload ${variant.type} storage ${variant.storage})`);
    const start = await postgresCpuMs(sql);
    for (let i = 0; i < ROWS; i += PER_INSERT) {
      const rows = Array.from(
        { length: PER_INSERT },
        (_, j) => `{"id":"d${i + j}","payload":${JSON.stringify({ ...payload, n: i + j })}}`,
      );
      await sql.unsafe(
        `insert into payloads (id, payload) select id, payload
         from json_to_recordset($1::text::json) as x(id text, payload ${variant.type})`,
        [`[${rows.join(",")}]`],
      );
    }
    const stored = await postgresCpuMs(sql);
    for (let i = 0; i < ROWS; i += PER_SELECT) {
      const ids = Array.from({ length: PER_SELECT }, (_, j) => `d${i + j}`);
      await sql.unsafe(`select id, payload from payloads where id = any($1::text[])`, [ids]);
    }
    const read = await postgresCpuMs(sql);
    const [size] = await sql<{ bytes: number }[]>`select pg_total_relation_size('payloads')::float8 as bytes`;
    console.log(
      `${variant.name.padEnd(26)} insert ${((stored - start) / ROWS).toFixed(3)} ms, ` +
        `read ${((read - stored) / ROWS).toFixed(3)} ms, ${Math.round(size!.bytes / ROWS)} bytes a row on disk`,
    );
  }
  await database.close();
} finally {
  await cluster.stop();
}
