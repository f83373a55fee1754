import { describe, expect, it } from "@jest/globals";
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
  it("is gzipped by the app into a column Postgres does not compress again, and gunzips to the text received, byte for byte", async () => {
    const intake = createIntake(t.app.runtime.database, t.app.boss, 2);
    const entry = delivery("stored", 1, 1);
    // Kept to the byte: spacing, a repeated key, key order, an escape and a non-ASCII character.
    entry.payloadJson = `{ "zeta": 1,  "action":"opened", "title": "caf\u00e9 \\u00e9" ,${entry.payloadJson.slice(1)}`;
    await intake.store(entry);

    const [row] = await t.database.sql`select payload from webhook_deliveries where id = 'stored'`;
    expect(row).toEqual({ payload: null });
    expect(await storedPayloadText(t.database, "stored")).toBe(entry.payloadJson);
    const [column] = await t.database.sql`
      select attstorage from pg_attribute
      where attrelid = 'webhook_deliveries'::regclass and attname = 'payload_gzip'`;
    expect(column).toEqual({ attstorage: "e" });
  });
});
