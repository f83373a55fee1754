import { gzipSync } from "node:zlib";
import { describe, expect, it } from "@jest/globals";
import { payloadFormat } from "../../src/db/queries/webhook-deliveries.js";
import { createIntake } from "../../src/web/intake.js";
import { checkPayload } from "../../src/webhooks/payloads.js";
import { storedPayloadText } from "../support/database.js";
import { useTestApp } from "../support/harness.js";
import { webhookExample } from "../support/webhook-examples.js";

// The intake's group commit (src/web/intake.ts) on the test app's database and pg-boss, called
// directly so that which deliveries are committed together is known.

const t = useTestApp({ queues: ["processWebhook"] });

/** A pull_request.opened delivery of pull request `number` of the installation's own repository. */
function delivery(id: string, installationId: number, number: number, handled = true) {
  const payload = webhookExample("pull_request", "opened");
  payload.installation = { id: installationId };
  payload.repository = { ...payload.repository, id: 1000 + installationId };
  payload.pull_request = { ...payload.pull_request, id: 10 * installationId + number, number };
  const check = checkPayload("pull_request", payload);
  return {
    id,
    event: "pull_request",
    action: "opened",
    installationId,
    repositoryId: 1000 + installationId,
    status: handled ? ("queued" as const) : ("ignored" as const),
    payloadJson: JSON.stringify(payload),
    handledJson: handled && check.handled && check.ok ? check.handledJson : null,
    process: handled,
  };
}

describe("webhook intake, deliveries committed together", () => {
  it("queues a job per installation (two deliveries at most here) for the handled deliveries of a commit, and each is processed once", async () => {
    const intake = createIntake(t.app.runtime.database, t.app.boss, 2);
    // The first four each start a transaction of their own (MAX_FLUSHES in flight); the rest
    // arrive while those are in flight, and are committed together in the next one.
    const alone = [1, 2, 3, 4].map((n) => delivery(`alone-${n}`, 1, n));
    const together = [
      delivery("a-1", 1, 5),
      delivery("b-1", 2, 1),
      delivery("a-2", 1, 6),
      delivery("a-ignored", 1, 7, false),
      delivery("b-2", 2, 2),
      delivery("a-3", 1, 8),
    ];
    const results = await Promise.all([...alone, ...together].map((entry) => intake.store(entry)));
    expect(results.every(({ stored }) => stored)).toBe(true);

    const jobs = (await t.app.jobs("process-webhook")).map(({ data }) => data);
    expect(jobs).toHaveLength(7);
    expect(jobs).toEqual(
      expect.arrayContaining([
        ...alone.map(({ id }) => ({ deliveryIds: [id], installationId: 1 })),
        { deliveryIds: ["a-1", "a-2"], installationId: 1 },
        { deliveryIds: ["b-1", "b-2"], installationId: 2 },
        { deliveryIds: ["a-3"], installationId: 1 },
      ]),
    );

    await t.app.drain(["process-webhook"]);
    const rows = await t.database.sql<{ id: string; status: string; attempts: number }[]>`
      select id, status, attempts from webhook_deliveries order by id`;
    expect(rows).toEqual(
      [...alone, ...together]
        .map(({ id, process }) => ({
          id,
          status: process ? "processed" : "ignored",
          attempts: process ? 1 : 0,
        }))
        .sort((a, b) => a.id.localeCompare(b.id)),
    );
    expect(await t.database.sql`select count(*)::int as prs from pull_requests`).toEqual([{ prs: 9 }]);
  });
});

describe("webhook intake, the payload stored", () => {
  /** Kept to the byte: spacing, a repeated key, key order, an escape and a non-ASCII character. */
  function unusualDelivery(id: string) {
    const entry = delivery(id, 1, 1);
    entry.payloadJson = `{ "zeta": 1,  "action":"opened", "title": "caf\u00e9 \\u00e9" ,${entry.payloadJson.slice(1)}`;
    return entry;
  }

  async function storedColumns(id: string) {
    const [row] = await t.database.sql<{ json: boolean; gzip: boolean; text: boolean }[]>`
      select payload is not null as json, payload_gzip is not null as gzip, payload_text is not null as text
      from webhook_deliveries where id = ${id}`;
    return row;
  }

  it("is gzipped by the app into a column Postgres does not compress again, and gunzips to the text received, byte for byte", async () => {
    const intake = createIntake(t.app.runtime.database, t.app.boss, 2, "gzip");
    const entry = unusualDelivery("stored");
    await intake.store(entry);

    expect(await storedColumns("stored")).toEqual({ json: false, gzip: true, text: false });
    expect(await storedPayloadText(t.database, "stored")).toBe(entry.payloadJson);
    const [column] = await t.database.sql`
      select attstorage from pg_attribute
      where attrelid = 'webhook_deliveries'::regclass and attname = 'payload_gzip'`;
    expect(column).toEqual({ attstorage: "e" });
  });

  it("is stored as its text in payload_text where Postgres compresses that column with lz4, byte for byte", async () => {
    const intake = createIntake(t.app.runtime.database, t.app.boss, 2, "text");
    const entry = unusualDelivery("as-text");
    await intake.store(entry);

    expect(await storedColumns("as-text")).toEqual({ json: false, gzip: false, text: true });
    const [row] = await t.database.sql<{ text: string }[]>`
      select payload_text as text from webhook_deliveries where id = 'as-text'`;
    expect(row!.text).toBe(entry.payloadJson);
    expect(await storedPayloadText(t.database, "as-text")).toBe(entry.payloadJson);
  });

  it("goes to payload_text only where migration 0020 could give it lz4 (this server built with it); gzipped otherwise", async () => {
    const [server] = await t.database.sql<{ lz4: boolean }[]>`
      select 'lz4' = any(enumvals) as lz4 from pg_settings where name = 'default_toast_compression'`;
    const [column] = await t.database.sql<{ compression: string }[]>`
      select attcompression as compression from pg_attribute
      where attrelid = 'webhook_deliveries'::regclass and attname = 'payload_text'`;
    // The migration's DO block: lz4 if the server has it, else the default ('' = default_toast_compression).
    expect(column!.compression).toBe(server!.lz4 ? "l" : "");
    expect(await payloadFormat(t.app.runtime.database.db)).toBe(server!.lz4 ? "text" : "gzip");

    // Without a format given, the intake reads it from the column.
    const intake = createIntake(t.app.runtime.database, t.app.boss, 2);
    const entry = unusualDelivery("detected");
    await intake.store(entry);
    expect(await storedColumns("detected")).toEqual({
      json: false,
      gzip: !server!.lz4,
      text: server!.lz4,
    });
    expect(await storedPayloadText(t.database, "detected")).toBe(entry.payloadJson);
  });

  it("of deliveries stored before, gzipped (0019) or as json (before 0019), still reads", async () => {
    const intake = createIntake(t.app.runtime.database, t.app.boss, 2, "text");
    const entry = unusualDelivery("old-gzip");
    await intake.store({ ...entry, id: "old-json" });
    await intake.store(entry);
    await t.database.sql`
      update webhook_deliveries set payload_text = null, payload_gzip = ${gzipSync(entry.payloadJson)}
      where id = 'old-gzip'`;
    await t.database.sql`
      update webhook_deliveries set payload = payload_text::json, payload_text = null where id = 'old-json'`;
    expect(await storedPayloadText(t.database, "old-gzip")).toBe(entry.payloadJson);
    // json keeps the text as it was given too.
    expect(await storedPayloadText(t.database, "old-json")).toBe(entry.payloadJson);
  });
});
