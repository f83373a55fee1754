import { request as httpRequest } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import nock from "nock";
import { enqueue } from "../src/queue/boss.js";
import { WEBHOOK_PATH } from "../src/server.js";
import { sign } from "./support/app.js";
import { storedPayloadText } from "./support/database.js";
import { useTestApp } from "./support/harness.js";
import { webhookExample } from "./support/webhook-examples.js";

const t = useTestApp({ queues: ["processWebhook"] });

const prOpened = () => webhookExample("pull_request", "opened");

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
    const response = await t.app.deliver("pull_request", webhookExample("pull_request", "assigned"));
    expect(response.status).toBe(202);
    expect(await deliveries()).toEqual([expect.objectContaining({ action: "assigned", status: "ignored" })]);
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

/**
 * Sends the headers of a delivery and the first byte of a body that never comes, and resolves with
 * the status: a server that waited for the body before refusing would never answer (and the test
 * would time out).
 */
function statusBeforeBody(headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      `${t.app.url}${WEBHOOK_PATH}`,
      {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "content-length": String(20 * 1024 * 1024),
          ...headers,
        },
      },
      (response) => {
        response.resume();
        resolve(response.statusCode!);
        request.destroy();
      },
    );
    request.on("error", reject);
    request.write("{");
  });
}

it("answers GitHub without the pages' browser headers, which the pages keep", async () => {
  const body = JSON.stringify(prOpened());
  const delivery = await fetch(`${t.app.url}${WEBHOOK_PATH}`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-github-event": "pull_request",
      "x-github-delivery": "headers-1",
      "x-hub-signature-256": sign(body),
    },
    body,
  });
  expect(delivery.status).toBe(202);
  expect(delivery.headers.get("content-security-policy")).toBeNull();
  const page = await fetch(`${t.app.url}/`, { redirect: "manual" });
  expect(page.headers.get("content-security-policy")).toContain("default-src 'self'");
  expect(page.headers.get("x-frame-options")).toBe("SAMEORIGIN");
});

describe("webhook intake refuses before reading the body", () => {
  // nock's interceptor holds a request until its body is complete; these requests never complete.
  beforeAll(() => nock.restore());
  afterAll(() => nock.activate());

  const headers = {
    "x-github-event": "pull_request",
    "x-github-delivery": "7f6e0c3a-0000-4000-8000-000000000001",
    "x-hub-signature-256": `sha256=${"0".repeat(64)}`,
  };

  it.each([
    ["no signature", { "x-hub-signature-256": "" }, 401],
    ["a SHA-1 signature only", { "x-hub-signature-256": "", "x-hub-signature": "sha1=abc" }, 401],
    ["a malformed signature", { "x-hub-signature-256": "sha256=nope" }, 401],
    ["no event", { "x-github-event": "" }, 400],
    ["no delivery id", { "x-github-delivery": "" }, 400],
  ])("%s: %s", async (_name, patch, status) => {
    const sent = Object.fromEntries(
      Object.entries({ ...headers, ...patch }).filter(([, value]) => value !== ""),
    );
    expect(await statusBeforeBody(sent)).toBe(status);
    expect(await deliveries()).toHaveLength(0);
  });
});

describe("webhook intake, signatures and bodies", () => {
  // A pull request title holding bytes that are not UTF-8 (0xff 0xfe): GitHub signs the bytes it sends.
  function bodyWithInvalidUtf8(): Buffer {
    const json = JSON.stringify({ ...webhookExample("pull_request", "opened") });
    const [before, after] = json.split("Update the README with new information.");
    return Buffer.concat([Buffer.from(before!), Buffer.from([0x52, 0xff, 0xfe, 0x45]), Buffer.from(after!)]);
  }

  it("accepts a body signed over its exact bytes, even when they are not valid UTF-8", async () => {
    const body = bodyWithInvalidUtf8();
    const response = await t.app.deliver("pull_request", undefined, { body });
    expect(response.status).toBe(202);
    await t.app.drain(["process-webhook"]);
    expect(await t.database.sql`select title from pull_requests`).toEqual([{ title: "R\ufffd\ufffdE" }]);
  });

  it("refuses the same body signed over its UTF-8 decoding re-encoded", async () => {
    const body = bodyWithInvalidUtf8();
    const reencoded = Buffer.from(body.toString("utf8"), "utf8");
    const response = await t.app.deliver("pull_request", undefined, { body, signature: sign(reencoded) });
    expect(response.status).toBe(401);
    expect(await deliveries()).toHaveLength(0);
  });

  it("answers 2xx to a signed event whose name has digits, and records it as ignored", async () => {
    const response = await t.app.deliver("projects_v2_item", webhookExample("projects_v2_item", "created"));
    expect(response.status).toBe(202);
    expect(await deliveries()).toEqual([
      expect.objectContaining({ event: "projects_v2_item", action: "created", status: "ignored" }),
    ]);
  });

  it("accepts a form-encoded delivery signed over the form body, and processes it", async () => {
    const body = `payload=${encodeURIComponent(JSON.stringify(prOpened()))}`;
    const response = await t.app.deliver("pull_request", undefined, {
      body,
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    expect(response.status).toBe(202);
    await t.app.drain(["process-webhook"]);
    expect(await deliveries()).toEqual([expect.objectContaining({ status: "processed" })]);
    expect(await t.database.sql`select title from pull_requests`).toEqual([
      { title: "Update the README with new information." },
    ]);
  });

  it("refuses JSON nested deeper than 64 levels with 400, and stores nothing", async () => {
    const nested = (depth: number) => "[".repeat(depth) + "]".repeat(depth);
    const deep = await t.app.deliver("star", undefined, { body: `{"action":"created","x":${nested(64)}}` });
    expect(deep.status).toBe(400);
    const veryDeep = await t.app.deliver("star", undefined, { body: `{"x":${nested(200_000)}}` });
    expect(veryDeep.status).toBe(400);
    expect(await deliveries()).toHaveLength(0);
    const fine = await t.app.deliver("star", undefined, { body: `{"action":"created","x":${nested(63)}}` });
    expect(fine.status).toBe(202);
  });

  it("stores payloads and rows without U+0000 or lone surrogates", async () => {
    const pr = prOpened();
    pr.pull_request.title = "Fix\u0000 the \ud800 parser";
    pr.pull_request.body = "Body \udc00 with\u0000 NUL";
    pr.pull_request.head.ref = "feature/\u0000x";
    pr.pull_request.user.login = "octo\u0000cat";
    pr.sender.login = "\ud83d";
    const response = await t.app.deliver("pull_request", pr);
    expect(response.status).toBe(202);
    await t.app.drain(["process-webhook"]);
    expect(await t.database.sql`select title, body, head_ref, author_login from pull_requests`).toEqual([
      {
        title: "Fix the \ufffd parser",
        body: "Body \ufffd with NUL",
        head_ref: "feature/x",
        author_login: "octocat",
      },
    ]);
    const stored = JSON.parse(await storedPayloadText(t.database, response.id));
    expect(stored.sender.login).toBe("\ufffd");
  });
});

describe("webhook intake, bodies replayed under another event's name", () => {
  /** The installation and repository of the examples, stored as a real installation left them. */
  async function storeInstallationAndRepository() {
    const installation = webhookExample("installation", "created").installation;
    const repository = webhookExample("repository", "renamed").repository;
    await t.database.sql`
      insert into installations (id, account_id, account_login, account_type)
      values (${installation.id}, 5555, 'acme', 'Organization')`;
    await t.database.sql`
      insert into repositories (id, installation_id, full_name, tracked, sync_status)
      values (${repository.id}, ${installation.id}, 'acme/hello', true, 'complete')`;
    return { installationId: installation.id as number, repositoryId: repository.id as number };
  }

  const state = () =>
    t.database.sql`
      select i.account_id, i.account_login, i.deleted_at, r.full_name, r.removed_at, r.tracked
      from installations i join repositories r on r.installation_id = i.id`;

  it.each([
    // A signed repository.deleted body as `installation`: it would read as an uninstall.
    ["repository", "deleted", "installation"],
    // A signed label.deleted body as `repository`: it would mark the repository removed.
    ["label", "deleted", "repository"],
    // A repository_dispatch body: its action is whatever a repository writer chose, "deleted" too.
    ["repository_dispatch", "deleted", "repository"],
    ["star", "deleted", "repository"],
    ["installation", "deleted", "repository"],
    // A signed pull_request_review.edited body as `pull_request`.
    ["pull_request_review", "edited", "pull_request"],
    // A signed pull_request_review_comment.edited body as `pull_request`.
    ["pull_request_review_comment", "edited", "pull_request"],
  ])(
    "a signed %s.%s body sent as %s is refused with 400 and changes nothing",
    async (event, action, claimed) => {
      const ids = await storeInstallationAndRepository();
      const before = await state();
      const body = webhookExample(event, action);
      body.installation = { id: ids.installationId, node_id: "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uMQ==" };
      if (body.repository) body.repository.id = ids.repositoryId;
      const response = await t.app.deliver(claimed, body);
      expect(response.status).toBe(400);
      expect(await deliveries()).toEqual([expect.objectContaining({ event: claimed, status: "ignored" })]);
      expect(await t.app.jobs("process-webhook")).toHaveLength(0);
      expect(await state()).toEqual(before);
    },
  );
});

it("records a stored delivery that does not match its event as ignored, and does not retry it", async () => {
  // Stored before intake checked payloads: a label.deleted body recorded as a repository event.
  const body = webhookExample("label", "deleted");
  await t.database.sql`
    insert into webhook_deliveries (id, event, action, status, payload)
    values ('stored-before-checks', 'repository', 'deleted', 'queued', ${JSON.stringify(body)}::jsonb)`;
  await enqueue(t.app.boss, "processWebhook", { deliveryId: "stored-before-checks" });
  await t.app.drain(["process-webhook"]);
  const [row] = await t.database.sql`select status, last_error from webhook_deliveries`;
  expect(row).toEqual({ status: "ignored", last_error: "repository payload does not match its schema" });
  expect((await t.app.jobs("process-webhook")).map((job) => job.state)).toEqual(["completed"]);
});
