import { gzipSync } from "node:zlib";
import { describe, expect, it } from "@jest/globals";
import { and, count, eq, isNull } from "drizzle-orm";
import * as schema from "../src/db/schema/index.js";
import { enqueue } from "../src/queue/boss.js";
import { useTestApp } from "./support/harness.js";

// Retention: webhook payloads are kept 14 days (then only the delivery row stays), an uninstalled
// installation's data 30 days (then a job purges it), both in batches of bounded size.

const t = useTestApp({ queues: ["retention", "purgeInstallation"] });

const DAY = 86_400_000;
const daysAgo = (days: number) => new Date(Date.now() - days * DAY);

type DeliveryStatus = "queued" | "processed" | "ignored" | "failed";
/** Its payload in one column: as json (before migration 0019), gzipped (0019) or as text (0020). */
type Stored = "json" | "gzip" | "text";
function delivery(id: string, status: DeliveryStatus, receivedDaysAgo: number, stored: Stored = "text") {
  const payload = { action: "opened", number: 1 };
  return {
    id,
    event: "pull_request",
    action: "opened",
    installationId: 1,
    repositoryId: 1,
    status,
    receivedAt: daysAgo(receivedDaysAgo),
    payload: stored === "json" ? payload : null,
    payloadGzip: stored === "gzip" ? gzipSync(JSON.stringify(payload)) : null,
    payloadText: stored === "text" ? JSON.stringify(payload) : null,
    handledPayload: { action: "opened" },
  };
}

async function runRetention() {
  await enqueue(t.app.boss, "retention", {});
  await t.app.drain(["retention", "purge-installation"], 60_000);
}

describe("webhook payloads", () => {
  it("are dropped after 14 days, in batches, keeping every delivery row; a queued one keeps its payload", async () => {
    // More old rows than one batch (1000) holds, to need several statements.
    const formats = ["json", "gzip", "text"] as const;
    const bulk = Array.from({ length: 2500 }, (_, i) =>
      delivery(`old-${i}`, "processed", 20, formats[i % 3]),
    );
    await t.database.db
      .insert(schema.webhookDeliveries)
      .values([
        ...bulk,
        delivery("old-failed", "failed", 15),
        delivery("old-ignored", "ignored", 30),
        delivery("old-queued", "queued", 20),
        delivery("recent", "processed", 13),
      ]);

    await runRetention();

    const withPayload = await t.database.db
      .select({ id: schema.webhookDeliveries.id })
      .from(schema.webhookDeliveries)
      .where(
        and(
          isNull(schema.webhookDeliveries.payload),
          isNull(schema.webhookDeliveries.payloadGzip),
          isNull(schema.webhookDeliveries.payloadText),
          isNull(schema.webhookDeliveries.handledPayload),
        ),
      );
    const purged = new Set(withPayload.map((row) => row.id));
    expect(purged.size).toBe(2502);
    expect(["old-failed", "old-ignored", "old-0", "old-2499"].every((id) => purged.has(id))).toBe(true);
    expect(purged.has("old-queued") || purged.has("recent")).toBe(false);
    const [rows] = await t.database.db.select({ value: count() }).from(schema.webhookDeliveries);
    expect(rows!.value).toBe(2504);
    const [job] = await t.database.sql<{ output: unknown }[]>`
      select output from pgboss.job where name = 'retention' and state = 'completed'`;
    expect(job!.output).toEqual({ payloadsPurged: 2502, installationsQueued: 0 });
  });
});

describe("uninstalled installations", () => {
  async function seedInstallation(id: number, deletedDaysAgo: number | null, commitCount = 3) {
    await t.database.db.insert(schema.installations).values({
      id,
      accountId: id,
      accountLogin: `org${id}`,
      accountType: "Organization",
      deletedAt: deletedDaysAgo === null ? null : daysAgo(deletedDaysAgo),
    });
    const repoId = id * 10;
    const prId = id * 100;
    await t.database.db
      .insert(schema.repositories)
      .values({ id: repoId, installationId: id, fullName: `org${id}/app` });
    await t.database.db.insert(schema.pullRequests).values({
      installationId: id,
      id: prId,
      repoId,
      number: 1,
      title: "Change",
      state: "open",
      headRef: "feature",
      baseRef: "main",
      createdAt: daysAgo(60),
      updatedAt: daysAgo(60),
    });
    await t.database.db
      .insert(schema.reviews)
      .values({ id: prId + 1, installationId: id, pullRequestId: prId, repoId, state: "approved" });
    await t.database.db.insert(schema.commits).values(
      Array.from({ length: commitCount }, (_, i) => ({
        installationId: id,
        pullRequestId: prId,
        repoId,
        sha: `${id}-${String(i).padStart(30, "0")}`,
        message: "Work",
      })),
    );
    await t.database.db
      .insert(schema.members)
      .values({ installationId: id, userId: id + 1, login: `dev${id}` });
    await t.database.db
      .insert(schema.teams)
      .values({ installationId: id, id: id + 2, slug: `team-${id}`, name: `Team ${id}` });
    await t.database.db
      .insert(schema.teamMembers)
      .values({ installationId: id, teamId: id + 2, userId: id + 1, login: `dev${id}` });
    await t.database.db
      .insert(schema.weeklyMetrics)
      .values({ installationId: id, repoId: 0, weekStart: "2024-01-01" });
    await t.database.db
      .insert(schema.weeklyMetricsPending)
      .values({ installationId: id, weekStart: "2024-01-08" });
  }

  async function rowsOf(id: number) {
    const tables = {
      installations: schema.installations.id,
      repositories: schema.repositories.installationId,
      pullRequests: schema.pullRequests.installationId,
      reviews: schema.reviews.installationId,
      commits: schema.commits.installationId,
      members: schema.members.installationId,
      teams: schema.teams.installationId,
      teamMembers: schema.teamMembers.installationId,
      weeklyMetrics: schema.weeklyMetrics.installationId,
      weeklyMetricsPending: schema.weeklyMetricsPending.installationId,
    } as const;
    const counts: Record<string, number> = {};
    for (const [name, column] of Object.entries(tables)) {
      const [row] = await t.database.db
        .select({ value: count() })
        .from(schema[name as keyof typeof tables])
        .where(eq(column, id));
      counts[name] = row!.value;
    }
    return counts;
  }

  const everything = (commits: number) => ({
    installations: 1,
    repositories: 1,
    pullRequests: 1,
    reviews: 1,
    commits,
    members: 1,
    teams: 1,
    teamMembers: 1,
    weeklyMetrics: 1,
    weeklyMetricsPending: 1,
  });
  const nothing = Object.fromEntries(Object.keys(everything(0)).map((name) => [name, 0]));

  it("are purged 30 days after the uninstall, in batches; recent uninstalls and live ones are kept", async () => {
    // More commits than one purge statement (5000) deletes.
    await seedInstallation(501, 40, 6000);
    await seedInstallation(502, 20);
    await seedInstallation(503, null);

    await runRetention();

    expect(await rowsOf(501)).toEqual(nothing);
    expect(await rowsOf(502)).toEqual(everything(3));
    expect(await rowsOf(503)).toEqual(everything(3));
    const [purge] = await t.database.sql<{ output: unknown }[]>`
      select output from pgboss.job where name = 'purge-installation' and state = 'completed'`;
    expect(purge!.output).toEqual({ deleted: 6009, finished: true });
  });

  it("a reinstall before the purge runs stops it: nothing is deleted", async () => {
    await seedInstallation(601, null);
    // The purge was queued while the installation was still uninstalled; it came back since.
    await enqueue(t.app.boss, "purgeInstallation", { installationId: 601 });
    await t.app.drain(["purge-installation"]);
    expect(await rowsOf(601)).toEqual(everything(3));
    expect(await t.app.jobs("purge-installation")).toEqual([
      { data: { installationId: 601 }, state: "completed" },
    ]);
  });
});
