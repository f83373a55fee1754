/**
 * `npx tsx bench/intake-cost.ts`: the Postgres CPU time per delivery of the intake's insert, on a
 * throwaway embedded Postgres with the app's schema: GitHub's example pull_request.synchronize
 * payload (23.7 KB) stored `--rows` times through insertDeliveries, `--per-commit` a transaction
 * (as a group commit does), against the statement it replaced, and without the secondary indexes.
 * CPU time of every Postgres process, read from /proc (Linux).
 */
import { parseArgs } from "node:util";
import { sql } from "drizzle-orm";
import pino from "pino";
import { createDatabase, withTransaction, type Db } from "../src/db/client.js";
import {
  insertDeliveries,
  payloadFormat,
  storable,
  type NewRawDelivery,
} from "../src/db/queries/webhook-deliveries.js";
import { numberedDeliveries } from "./deliveries.js";
import { startCluster } from "./engine.js";
import { postgresCpuMs } from "./cpu.js";

const { values } = parseArgs({
  options: { rows: { type: "string", default: "12000" }, "per-commit": { type: "string", default: "8" } },
});
const ROWS = Number(values.rows);
const PER_COMMIT = Number(values["per-commit"]);

/** The intake's insert up to 2026-12-06: every row in one json parameter, taken apart by json_to_recordset. */
async function insertAsOneJson(db: Db, deliveries: NewRawDelivery[]): Promise<void> {
  const rows = deliveries.map(({ payloadJson, handledJson: _handled, ...delivery }) => {
    const fields = JSON.stringify({ ...delivery, lastError: delivery.lastError ?? null });
    return `${fields.slice(0, -1)},"payload":${payloadJson}}`;
  });
  await db.execute(sql`insert into webhook_deliveries
      (id, event, action, installation_id, repository_id, status, last_error, payload)
    select id, event, action, "installationId", "repositoryId", status, "lastError", payload
    from json_to_recordset(${`[${rows.join(",")}]`}::json) as x(
      id text, event text, action text, "installationId" bigint, "repositoryId" bigint,
      status text, "lastError" text, payload json)
    on conflict (id) do nothing
    returning id`);
}

const cluster = await startCluster(pino({ level: "warn" }));
try {
  const database = createDatabase(await cluster.createDatabase(`intake_cost_${Date.now()}`), { max: 4 });
  const numbered = numberedDeliveries();
  const measure = async (name: string, insert: (db: Db, rows: NewRawDelivery[]) => Promise<unknown>) => {
    await database.sql`checkpoint`;
    const start = await postgresCpuMs(database.sql);
    for (let i = 0; i < ROWS; i += PER_COMMIT) {
      await withTransaction(database, (db) => insert(db, numbered(PER_COMMIT)));
    }
    const cpu = (await postgresCpuMs(database.sql)) - start;
    console.log(`${name.padEnd(48)} ${(cpu / ROWS).toFixed(3)} ms a delivery`);
  };
  console.log(`# ${ROWS} deliveries, ${PER_COMMIT} a transaction; Postgres CPU per delivery`);
  // As the intake stores them: each payload as this database's format has it (lz4 text or gzip).
  const format = await payloadFormat(database.db);
  console.log(`# payload format: ${format}`);
  const insertAsStored = (db: Db, rows: NewRawDelivery[]) =>
    insertDeliveries(
      db,
      rows.map((row) => storable(row, format)),
    );
  await measure("insertDeliveries (a row of parameters each)", insertAsStored);
  await measure("one json parameter (json_to_recordset)", insertAsOneJson);
  await database.sql.unsafe(`drop index webhook_deliveries_received_idx;
    drop index webhook_deliveries_installation_received_idx; drop index webhook_deliveries_failed_idx`);
  await measure("insertDeliveries, primary key only", insertAsStored);
  await database.close();
} finally {
  await cluster.stop();
}
