import { afterAll, beforeAll, beforeEach, describe, expect, it } from "@jest/globals";
import { randomUUID } from "node:crypto";
import { insertSyncRuns } from "../../src/db/queries/sync-runs.js";
import * as schema from "../../src/db/schema/index.js";
import { enqueue } from "../../src/queue/boss.js";
import { defaultInstallationSettings } from "../../src/settings.js";
import { APP_ID } from "../support/app.js";
import { Browser } from "../support/browser.js";
import { startFakeGitHub, type FakeGitHub } from "../support/fake-github/index.js";
import { useTestApp } from "../support/harness.js";
import { signedIn } from "../support/session.js";

// The webhook health page: its numbers against rows stored with known ages and outcomes. The
// app's clock is the test's: fixed where ages matter, the real one where pg-boss's own clock does.

let github: FakeGitHub;
let clock: () => Date = () => new Date();
beforeAll(async () => {
  github = await startFakeGitHub({ seed: 51 });
});
const t = useTestApp(() => ({
  env: { GHE_HOST: github.host, GHE_PROTOCOL: "http" },
  queues: [],
  now: () => clock(),
}));
afterAll(async () => {
  await github.close();
});

const NOW = new Date("2026-03-15T12:00:00Z");
const MIN = 60_000;
const HOUR = 60 * MIN;
const before = (ms: number) => new Date(NOW.getTime() - ms);

interface Org {
  installationId: number;
  admin: { id: number; login: string };
  plain: { id: number; login: string };
  repoId: number;
}

let count = 0;
async function seedOrg(prefix: string, timezone = "UTC"): Promise<Org> {
  const login = `${prefix}${++count}`;
  const seeded = github.world.seedOrg({ login, repos: 1, prsPerRepo: 1, members: 2, appId: Number(APP_ID) });
  github.oauth.setRole(login, seeded.members[0]!.login, "admin");
  await t.database.db.insert(schema.installations).values({
    id: seeded.installation.id,
    accountId: seeded.org.id,
    accountLogin: login,
    accountType: "Organization",
    settings: { ...defaultInstallationSettings, timezone },
  });
  return {
    installationId: seeded.installation.id,
    admin: seeded.members[0]!,
    plain: seeded.members[1]!,
    repoId: seeded.repos[0]!.id,
  };
}

let acme: Org;
let globex: Org;
const EVIL_REPO = 990_001;
beforeEach(async () => {
  clock = () => NOW;
  acme = await seedOrg("acme", "Asia/Tokyo");
  globex = await seedOrg("globex");
  await t.database.db.insert(schema.repositories).values([
    { id: acme.repoId, installationId: acme.installationId, fullName: "acme/widgets", tracked: true },
    {
      id: EVIL_REPO,
      installationId: acme.installationId,
      fullName: `acme/<img src=x onerror=alert(1)>`,
      tracked: true,
    },
    {
      id: globex.repoId,
      installationId: globex.installationId,
      fullName: "globex/secret-plans",
      tracked: true,
    },
  ]);
});

async function browserFor(
  org: Org,
  user: { id: number; login: string },
  installationIds = [org.installationId],
) {
  const session = await signedIn(t.database, t.app.server, {
    userId: user.id,
    login: user.login,
    installationIds,
  });
  return new Browser(t.app.url, session.cookie);
}

const healthPath = (org: Org) => `/installations/${org.installationId}/webhooks`;

type Delivery = typeof schema.webhookDeliveries.$inferInsert;
function delivery(org: Org, patch: Partial<Delivery> & { receivedAt: Date }): Delivery {
  return {
    id: randomUUID(),
    event: "pull_request",
    action: "opened",
    installationId: org.installationId,
    repositoryId: org.repoId,
    status: "processed",
    attempts: 1,
    payload: {},
    ...patch,
  };
}

const processedAfter = (org: Org, event: string, receivedAgo: number, lagSeconds: number) =>
  delivery(org, {
    event,
    action: "submitted",
    receivedAt: before(receivedAgo),
    processedAt: new Date(NOW.getTime() - receivedAgo + lagSeconds * 1000),
  });

describe("webhook health", () => {
  it("counts the last day's deliveries by event and outcome, lists failures, and measures the lag", async () => {
    const lastId = randomUUID();
    await t.database.db.insert(schema.webhookDeliveries).values([
      // Processed two hours ago: in the day's counts, not in the last hour's lag.
      delivery(acme, { receivedAt: before(2 * HOUR), processedAt: before(2 * HOUR - 1000) }),
      // The last hour: lags of 1, 2, 3, 4 and 100 seconds.
      ...[1, 2, 3, 4, 100].map((lag, index) =>
        processedAfter(acme, "pull_request_review", (10 + 5 * index) * MIN, lag),
      ),
      delivery(acme, {
        event: "pull_request_review",
        action: "submitted",
        status: "failed",
        attempts: 3,
        lastError: `<b>boom</b> & "more"`,
        receivedAt: before(3 * HOUR),
      }),
      delivery(acme, {
        action: "<i>edited</i>",
        status: "ignored",
        lastError: "pull_request.title: <script>alert(1)</script>",
        repositoryId: EVIL_REPO,
        receivedAt: before(5 * HOUR),
        processedAt: null,
      }),
      delivery(acme, { event: "star", action: "created", status: "ignored", receivedAt: before(6 * HOUR) }),
      delivery(acme, { id: lastId, action: "synchronize", status: "queued", receivedAt: before(MIN) }),
      // Older than a day.
      delivery(acme, { action: "closed", receivedAt: before(30 * HOUR), processedAt: before(30 * HOUR) }),
      delivery(acme, {
        action: "closed",
        status: "failed",
        lastError: "stale failure",
        receivedAt: before(30 * HOUR),
      }),
      // Another installation's.
      delivery(globex, { receivedAt: before(10 * MIN), processedAt: before(10 * MIN - 500_000) }),
      delivery(globex, { status: "failed", lastError: "globex failure", receivedAt: before(HOUR) }),
    ]);
    const browser = await browserFor(acme, acme.admin);
    const page = await browser.get(healthPath(acme));
    expect(page.status).toBe(200);

    const deliveries = section(page.body, "deliveries-heading");
    // Processed, Waiting, Ignored, Refused, Failed, Total.
    expect(cells(rowOf(deliveries, "<code>pull_request</code>"))).toEqual([
      "pull_request",
      "1",
      "1",
      "–",
      "1",
      "–",
      "3",
    ]);
    expect(cells(rowOf(deliveries, "<code>pull_request_review</code>"))).toEqual([
      "pull_request_review",
      "5",
      "–",
      "–",
      "–",
      "1",
      "6",
    ]);
    expect(cells(rowOf(deliveries, "<code>star</code>"))).toEqual(["star", "–", "–", "1", "–", "–", "1"]);
    expect(cells(rowOf(deliveries, "All events"))).toEqual(["All events", "6", "1", "1", "1", "1", "10"]);

    const failures = section(page.body, "failures-heading");
    expect(failures).toContain("&lt;b&gt;boom&lt;/b&gt; &amp; &quot;more&quot;");
    expect(failures).toContain("pull_request.title: &lt;script&gt;alert(1)&lt;/script&gt;");
    expect(failures).toContain("pull_request.&lt;i&gt;edited&lt;/i&gt;");
    expect(failures).toContain("acme/&lt;img src=x onerror=alert(1)&gt;");
    expect(failures).toContain("3 attempts");
    expect(failures.indexOf("boom")).toBeLessThan(failures.indexOf("alert(1)&lt;/script"));
    expect(failures).not.toContain("stale failure");
    expect(failures).not.toContain("globex failure");
    expect(page.body).not.toContain("<script>alert");
    expect(page.body).not.toContain("<img src=x");
    expect(page.body).not.toContain("<b>boom");

    const now = section(page.body, "now-heading");
    expect(now).toContain("<strong>pull_request.synchronize</strong>");
    expect(now).toContain(`datetime="${before(MIN).toISOString()}"`);
    expect(now).toContain("(1 min ago, waiting)");
    expect(now).toContain("median <strong>3.0 s</strong> · 95th percentile <strong>81 s</strong>");
    expect(now).toContain("5 deliveries processed in the last hour");
  });

  // The deliveries table's words, not the stored status: a refusal is stored as "ignored".
  it.each<[string, Partial<Delivery>]>([
    ["refused", { status: "ignored", lastError: "pull_request: Invalid input" }],
    ["ignored", { status: "ignored", lastError: null }],
    ["failed", { status: "failed", lastError: "boom" }],
    ["processed", { status: "processed", lastError: null }],
  ])("names a last delivery %s as the deliveries table does", async (word, patch) => {
    await t.database.db
      .insert(schema.webhookDeliveries)
      .values([
        delivery(acme, { receivedAt: before(HOUR) }),
        delivery(acme, { ...patch, receivedAt: before(5 * MIN) }),
      ]);
    const browser = await browserFor(acme, acme.admin);
    const now = section((await browser.get(healthPath(acme))).body, "now-heading");
    expect(now).toContain(`(5 min ago, ${word})`);
  });

  it("says so when nothing was received", async () => {
    const browser = await browserFor(acme, acme.admin);
    const page = await browser.get(healthPath(acme));
    expect(page.body).toContain("None received yet");
    expect(page.body).toContain("No delivery in the last 24 hours.");
    expect(page.body).toContain("No delivery processed in the last hour.");
    expect(page.body).toContain("No delta sync ran in the last 14 nights");
  });

  it("shows the drift per repository and night, nights counted in the installation's zone", async () => {
    const run = (org: Org, repoId: number, startedAt: string, drift: number) =>
      insertSyncRuns(t.database.db, [
        {
          installationId: org.installationId,
          repoId,
          startedAt: new Date(startedAt),
          finishedAt: new Date(new Date(startedAt).getTime() + MIN),
          changed: drift,
          drift,
          queries: 1,
        },
      ]);
    // 02:30 on March 15 in Tokyo, still March 14 in UTC.
    await run(acme, acme.repoId, "2026-03-14T17:30:00Z", 2);
    // March 12 in Tokyo: the nightly run and a "sync now" at noon.
    await run(acme, acme.repoId, "2026-03-11T17:00:00Z", 0);
    await run(acme, acme.repoId, "2026-03-12T03:00:00Z", 1);
    // Older than 14 nights.
    await run(acme, acme.repoId, "2026-02-20T17:00:00Z", 40);
    await run(acme, EVIL_REPO, "2026-03-13T17:00:00Z", 5);
    await run(globex, globex.repoId, "2026-03-14T17:00:00Z", 9);

    const browser = await browserFor(acme, acme.admin);
    const drift = section((await browser.get(healthPath(acme))).body, "drift-heading");
    const header = cells(drift.slice(drift.indexOf("<thead"), drift.indexOf("</thead>")), "th");
    expect(header).toEqual([
      "Repository",
      ...["2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15"].map(
        (day) => `Mar ${day}`,
      ),
      "Total",
    ]);
    const none = (n: number) => Array.from({ length: n }, () => "–");
    // The repository with the most drift first.
    expect(drift.indexOf("acme/&lt;img")).toBeLessThan(drift.indexOf("acme/widgets"));
    expect(cells(rowOf(drift, "acme/widgets"))).toEqual([
      "acme/widgets",
      ...none(10),
      "1",
      "–",
      "–",
      "2",
      "3",
    ]);
    expect(cells(rowOf(drift, "acme/&lt;img"))).toEqual([
      "acme/<img src=x onerror=alert(1)>",
      ...none(12),
      "5",
      "–",
      "5",
    ]);
    expect(drift).toContain('title="Mar 12: 1 missed change repaired over 2 syncs"');
    expect(drift).not.toContain("globex");
    expect(drift).toContain("dates in Asia/Tokyo");
  });

  it("counts the waiting and running jobs of this installation and of all", async () => {
    clock = () => new Date();
    const [mine, theirs] = [randomUUID(), randomUUID()];
    await t.database.db
      .insert(schema.webhookDeliveries)
      .values([
        delivery(acme, { id: mine, status: "queued", receivedAt: new Date() }),
        delivery(globex, { id: theirs, status: "queued", receivedAt: new Date() }),
      ]);
    const boss = t.app.boss;
    // The intake's jobs name their installation; a job of an earlier version, only its delivery.
    await enqueue(boss, "processWebhook", { deliveryIds: [mine], installationId: acme.installationId });
    await enqueue(boss, "processWebhook", { deliveryId: theirs });
    await enqueue(boss, "processWebhook", { deliveryId: "not-a-stored-delivery" });
    const pr = (installationId: number, pullRequestId: number) => ({
      installationId,
      repoId: 1,
      pullRequestId,
      nodeId: `PR_${pullRequestId}`,
    });
    await enqueue(boss, "refreshPullRequest", pr(acme.installationId, 1));
    expect(await boss.fetch("refresh-pull-request")).toHaveLength(1);
    await enqueue(boss, "refreshPullRequest", pr(acme.installationId, 2));
    await enqueue(boss, "refreshPullRequest", pr(globex.installationId, 3));
    await enqueue(
      boss,
      "backfillRepo",
      { installationId: acme.installationId, repoId: acme.repoId },
      { startAfter: new Date(Date.now() + HOUR) },
    );

    const browser = await browserFor(acme, acme.admin);
    const queues = section((await browser.get(healthPath(acme))).body, "queues-heading");
    // This installation: waiting, scheduled, running; all installations: waiting, running.
    expect(cells(rowOf(queues, "<code>process-webhook</code>"))).toEqual([
      "Webhook processing process-webhook",
      "1",
      "–",
      "–",
      "3",
      "–",
    ]);
    expect(cells(rowOf(queues, "<code>refresh-pull-request</code>")).slice(1)).toEqual([
      "1",
      "–",
      "1",
      "2",
      "1",
    ]);
    expect(cells(rowOf(queues, "<code>backfill</code>")).slice(1)).toEqual(["–", "1", "–", "–", "–"]);
    expect(cells(rowOf(queues, "<code>delta-sync</code>")).slice(1)).toEqual(["–", "–", "–", "–", "–"]);
  });

  it("serves the live part as a fragment htmx refreshes, without the layout", async () => {
    await t.database.db
      .insert(schema.webhookDeliveries)
      .values(delivery(acme, { action: "reopened", status: "queued", receivedAt: before(MIN) }));
    const browser = await browserFor(acme, acme.admin);
    const page = await browser.get(healthPath(acme));
    expect(page.body).toContain(`hx-get="${healthPath(acme)}/live"`);
    const live = await browser.get(`${healthPath(acme)}/live`);
    expect(live.status).toBe(200);
    expect(live.headers.get("cache-control")).toBe("no-store");
    expect(live.body.trimStart().startsWith('<div id="webhook-health-live"')).toBe(true);
    expect(live.body).not.toContain("<html");
    expect(live.body).toContain("pull_request.reopened");
  });
});

describe("access", () => {
  it("sends an anonymous visitor to sign in", async () => {
    const browser = new Browser(t.app.url);
    for (const path of [healthPath(acme), `${healthPath(acme)}/live`]) {
      const page = await browser.get(path);
      expect(page.status).toBe(303);
      expect(page.location).toBe(`/login?next=${encodeURIComponent(path)}`);
    }
  });

  it("shows another organization's admin and a plain member nothing", async () => {
    await t.database.db
      .insert(schema.webhookDeliveries)
      .values(delivery(acme, { status: "failed", lastError: "acme secret", receivedAt: before(MIN) }));
    for (const browser of [
      await browserFor(globex, globex.admin),
      await browserFor(acme, acme.plain, []),
      await browserFor(acme, acme.admin, [globex.installationId]),
    ]) {
      for (const path of [healthPath(acme), `${healthPath(acme)}/live`]) {
        const page = await browser.get(path);
        expect(page.status).toBe(404);
        expect(page.body).not.toContain("acme secret");
      }
    }
  });

  it("lets the admin in", async () => {
    const browser = await browserFor(acme, acme.admin);
    expect((await browser.get(healthPath(acme))).status).toBe(200);
    expect((await browser.get(`${healthPath(acme)}/live`)).status).toBe(200);
  });
});

/** The HTML of the part of the page labelled by this heading id. */
function section(body: string, headingId: string): string {
  const start = body.indexOf(`aria-labelledby="${headingId}"`);
  expect(start).toBeGreaterThan(-1);
  return body.slice(start, body.indexOf("</section>", start));
}

/** The table row that holds this HTML. */
function rowOf(html: string, text: string): string {
  const at = html.indexOf(text);
  expect(at).toBeGreaterThan(-1);
  return html.slice(html.lastIndexOf("<tr", at), html.indexOf("</tr>", at));
}

/** The text of each cell, tags dropped, entities decoded, spaces collapsed. */
function cells(html: string, tag = "t[dh]"): string[] {
  return [...html.matchAll(new RegExp(`<${tag}[^>]*>([\\s\\S]*?)</${tag}>`, "g"))].map((match) =>
    match[1]!
      .replace(/<[^>]+>/g, " ")
      .replaceAll("&lt;", "<")
      .replaceAll("&gt;", ">")
      .replaceAll("&quot;", '"')
      .replaceAll("&#39;", "'")
      .replaceAll("&amp;", "&")
      .replace(/\s+/g, " ")
      .trim(),
  );
}
