/**
 * `npx tsx bench/payload-storage.ts`: what storing a delivery's payload costs Postgres, by column
 * type and storage, measured as the CPU time of the Postgres processes (Linux /proc) on a throwaway
 * embedded Postgres. GitHub's example pull_request.synchronize payload (23.7 KB) is stored
 * `--rows` times, 64 a statement as the intake's group commit does, then read back 16 at a time as
 * the webhook worker does. The gzip variant is what the intake stores since migration 0019; its
 * Node time is given beside. The lz4 variant (text, a parameter each) is what it stores since
 * migration 0020 on a server built with lz4: run with BENCH_POSTGRES_BIN=/usr/lib/postgresql/15/bin
 * (Debian's), since the embedded build has no lz4 (the variant is then left out).
 */
import { parseArgs } from "node:util";
import { gzipSync } from "node:zlib";
import pino from "pino";
import { createDatabase } from "../src/db/client.js";
import { webhookExample } from "../test/support/webhook-examples.js";
import { startCluster } from "./engine.js";
import { postgresCpuMs } from "./cpu.js";

const { values } = parseArgs({ options: { rows: { type: "string", default: "4000" } } });
const ROWS = Number(values.rows);
const PER_INSERT = 64;
const PER_SELECT = 16;

/**
 * `envelope`: the rows as one json parameter with each payload spliced in (json_to_recordset), as
 * the intake did up to 2026-12-06; `arrays`: one array parameter per column, the payloads a text[]
 * (unnest), so that Postgres reads each payload's text once, as the column's input.
 */
const variants = [
  { name: "jsonb, compressed (pglz)", type: "jsonb", storage: "extended", shape: "envelope" },
  { name: "jsonb, uncompressed", type: "jsonb", storage: "external", shape: "envelope" },
  { name: "json, compressed (pglz)", type: "json", storage: "extended", shape: "envelope" },
  { name: "json, uncompressed", type: "json", storage: "external", shape: "envelope" },
  { name: "json, pglz, arrays", type: "json", storage: "extended", shape: "arrays" },
  { name: "json, uncompressed, arrays", type: "json", storage: "external", shape: "arrays" },
  { name: "text, pglz, arrays", type: "text", storage: "extended", shape: "arrays" },
  { name: "text, uncompressed, arrays", type: "text", storage: "external", shape: "arrays" },
  { name: "bytea, gzipped by Node", type: "bytea", storage: "external", shape: "gzip" },
  { name: "text, pglz, a parameter each", type: "text", storage: "extended", shape: "params" },
  { name: "text, lz4, a parameter each", type: "text", storage: "extended", shape: "params", lz4: true },
] as const;

const cluster = await startCluster(pino({ level: "warn" }));
try {
  const database = createDatabase(await cluster.createDatabase(`payload_storage_${Date.now()}`), { max: 2 });
  const { sql } = database;
  const payload = webhookExample("pull_request", "synchronize");
  console.log(`# ${ROWS} payloads of ${JSON.stringify(payload).length} bytes; Postgres CPU per row`);
  const [server] = await sql<{ lz4: boolean }[]>`
    select 'lz4' = any(enumvals) as lz4 from pg_settings where name = 'default_toast_compression'`;
  for (const variant of variants) {
    if ("lz4" in variant && !server!.lz4) continue;
    // (STORAGE in CREATE TABLE is Postgres 16+.)
    await sql.unsafe(`drop table if exists payloads; create table payloads (id text primary key,
      received_at timestamptz not null default now(), payload ${variant.type});
      alter table payloads alter column payload set storage ${variant.storage}`);
    if ("lz4" in variant) await sql.unsafe(`alter table payloads alter column payload set compression lz4`);
    let nodeMs = 0;
    const start = await postgresCpuMs(sql);
    for (let i = 0; i < ROWS; i += PER_INSERT) {
      const ids = Array.from({ length: PER_INSERT }, (_, j) => `d${i + j}`);
      const texts = ids.map((id, j) => JSON.stringify({ ...payload, n: i + j }));
      if (variant.shape === "envelope") {
        const rows = ids.map((id, j) => `{"id":"${id}","payload":${texts[j]}}`);
        await sql.unsafe(
          `insert into payloads (id, payload) select id, payload
           from json_to_recordset($1::text::json) as x(id text, payload ${variant.type})`,
          [`[${rows.join(",")}]`],
        );
      } else if (variant.shape === "gzip") {
        const started = process.cpuUsage();
        const gzipped = texts.map((text) => gzipSync(text, { level: 1 }));
        const { user, system } = process.cpuUsage(started);
        nodeMs += (user + system) / 1000;
        // A parameter each: postgres.js sends a Buffer as bytea, but not an array of them.
        const values = ids.map((_, j) => `($${2 * j + 1}, $${2 * j + 2})`).join(", ");
        await sql.unsafe(
          `insert into payloads (id, payload) values ${values}`,
          ids.flatMap((id, j) => [id, gzipped[j]!]),
        );
      } else if (variant.shape === "params") {
        const values = ids.map((_, j) => `($${2 * j + 1}, $${2 * j + 2})`).join(", ");
        await sql.unsafe(
          `insert into payloads (id, payload) values ${values}`,
          ids.flatMap((id, j) => [id, texts[j]!]),
        );
      } else {
        await sql.unsafe(
          `insert into payloads (id, payload) select id, payload::${variant.type}
           from unnest($1::text[], $2::text[]) as x(id, payload)`,
          [ids, texts],
        );
      }
    }
    const stored = await postgresCpuMs(sql);
    for (let i = 0; i < ROWS; i += PER_SELECT) {
      const ids = Array.from({ length: PER_SELECT }, (_, j) => `d${i + j}`);
      await sql.unsafe(`select id, payload from payloads where id = any($1::text[])`, [ids]);
    }
    const read = await postgresCpuMs(sql);
    const [size] = await sql<{ bytes: number; column: number }[]>`
      select pg_total_relation_size('payloads')::float8 as bytes,
        (select avg(pg_column_size(payload)) from payloads)::float8 as column`;
    console.log(
      `${variant.name.padEnd(28)} insert ${((stored - start) / ROWS).toFixed(3)} ms, ` +
        `read ${((read - stored) / ROWS).toFixed(3)} ms, ${Math.round(size!.bytes / ROWS)} bytes a row on disk, ` +
        `${Math.round(size!.column)} bytes a value (pg_column_size)` +
        (nodeMs > 0 ? `; gzip in Node ${(nodeMs / ROWS).toFixed(3)} ms` : ""),
    );
  }
  await database.close();
} finally {
  await cluster.stop();
}
