import { describe, expect, it } from "@jest/globals";
import { sign } from "./support/app.js";
import { useTestApp } from "./support/harness.js";
import { webhookExample } from "./support/webhook-examples.js";

const t = useTestApp({ queues: ["processWebhook"] });

const deliveries = () =>
  t.database.sql`select id, event, action, status, installation_id, repository_id from webhook_deliveries`;

describe("webhook intake", () => {
  const payload = () => webhookExample("pull_request", "opened");

  it("refuses a delivery without a signature and stores nothing", async () => {
    const response = await t.app.deliver("pull_request", payload(), { signature: null });
    expect(response.status).toBe(401);
    expect(await deliveries()).toHaveLength(0);
    expect(await t.database.sql`select * from pull_requests`).toHaveLength(0);
  });

  it("refuses a delivery signed with another secret and stores nothing", async () => {
    const body = JSON.stringify(payload());
    const response = await t.app.deliver("pull_request", undefined, {
      body,
      signature: sign(body, "not-the-secret"),
    });
    expect(response.status).toBe(401);
    expect(await deliveries()).toHaveLength(0);
  });

  it("refuses a body altered after signing (the signature covers the exact bytes)", async () => {
    const body = JSON.stringify(payload());
    const reformatted = JSON.stringify(JSON.parse(body), null, 2);
    const response = await t.app.deliver("pull_request", undefined, {
      body: reformatted,
      signature: sign(body),
    });
    expect(response.status).toBe(401);
    expect(await deliveries()).toHaveLength(0);
  });

  it("answers 400 to a signed body that is not JSON", async () => {
    const response = await t.app.deliver("pull_request", undefined, { body: "{not json" });
    expect(response.status).toBe(400);
    expect(await deliveries()).toHaveLength(0);
  });

  it("answers 400 without an event name or delivery id", async () => {
    const body = JSON.stringify(payload());
    expect((await t.app.deliver("", undefined, { body })).status).toBe(400);
    expect((await t.app.deliver("pull_request", undefined, { body, id: "" })).status).toBe(400);
    expect(await deliveries()).toHaveLength(0);
  });

  it("answers 413 to a body over the limit", async () => {
    const big = JSON.stringify({ ...payload(), padding: "x".repeat(t.app.config.webhookBodyLimit) });
    const response = await t.app.deliver("pull_request", undefined, { body: big });
    expect(response.status).toBe(413);
    expect(await deliveries()).toHaveLength(0);
  });

  it("records an unknown event as ignored and queues nothing", async () => {
    const response = await t.app.deliver("star", webhookExample("star", "created"));
    expect(response.status).toBe(202);
    expect(response.body).toMatchObject({ handled: false });
    expect(await deliveries()).toEqual([
      expect.objectContaining({ event: "star", action: "created", status: "ignored" }),
    ]);
    expect(await t.app.jobs("process-webhook")).toHaveLength(0);
  });

  it("records an unhandled action of a handled event as ignored", async () => {
    const response = await t.app.deliver("pull_request", webhookExample("pull_request", "labeled"));
    expect(response.status).toBe(202);
    expect(await deliveries()).toEqual([expect.objectContaining({ action: "labeled", status: "ignored" })]);
  });

  it("commits the delivery and its job before answering, and a redelivery is a no-op", async () => {
    const pr = payload();
    const first = await t.app.deliver("pull_request", pr, { id: "guid-1" });
    const again = await t.app.deliver("pull_request", pr, { id: "guid-1" });
    expect(first.status).toBe(202);
    expect(again.status).toBe(202);
    expect(again.body).toMatchObject({ duplicate: true });
    expect(await t.app.jobs("process-webhook")).toHaveLength(1);
    await t.app.drain(["process-webhook"]);
    expect(await deliveries()).toEqual([
      expect.objectContaining({
        id: "guid-1",
        status: "processed",
        installation_id: "1",
        repository_id: "186853002",
      }),
    ]);
    expect(await t.database.sql`select id from pull_requests`).toHaveLength(1);
  });
});
