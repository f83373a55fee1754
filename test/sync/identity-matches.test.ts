import { afterAll, beforeAll, expect, it } from "@jest/globals";
import { asc, eq } from "drizzle-orm";
import * as schema from "../../src/db/schema/index.js";
import { listCommitIdentities, saveIdentityMatch } from "../../src/db/queries/members.js";
import { enqueue } from "../../src/queue/boss.js";
import { APP_ID } from "../support/app.js";
import { countIdentitiesDirectly } from "../support/commit-identities.js";
import { deliverInstallationCreated } from "../support/delivery-stream.js";
import { startFakeGitHub, type FakeGitHub } from "../support/fake-github/index.js";
import { useTestApp } from "../support/harness.js";

// Manual matches and sync runs against the syncs that run every night: the app works the fake
// GitHub with every worker, on one frozen clock shared with the fake.

let github: FakeGitHub;
beforeAll(async () => {
  github = await startFakeGitHub({ seed: 41 });
  github.world.setNow(new Date());
});
const t = useTestApp(() => ({
  env: { GHE_HOST: github.host, GHE_PROTOCOL: "http" },
  now: () => github.world.now(),
}));
afterAll(async () => {
  await github.close();
});

const INSTALLATION = 6100;
const ADMIN = 9001;
const CONTRACTOR = { authorUserId: null, authorEmail: "contractor@agency.example", authorName: "Casey" };

/** What the members page shows of each identity equals a count of the stored commits. */
async function expectCountsExact() {
  const shown = await listCommitIdentities(t.database.db, INSTALLATION);
  const direct = await countIdentitiesDirectly(t.database.sql, INSTALLATION);
  expect(direct.length).toBeGreaterThan(0);
  expect(
    shown.map(({ identity, authorLogin, authorEmail, authorName, commits }) => ({
      identity,
      authorLogin,
      authorEmail,
      authorName,
      commits,
    })),
  ).toEqual(direct);
}

const later = (minutes: number) =>
  github.world.setNow(new Date(github.world.now().getTime() + minutes * 60_000));

async function syncRuns() {
  return t.database.db
    .select()
    .from(schema.syncRuns)
    .where(eq(schema.syncRuns.installationId, INSTALLATION))
    .orderBy(asc(schema.syncRuns.id));
}

async function runDelta(repoIds: number[]) {
  await enqueue(t.app.boss, "deltaSync", { installationId: INSTALLATION, repoIds });
  await t.app.drain(["delta-sync"], 60_000);
}

it("keeps manual matches through members syncs and delta syncs, and records each delta sync per repository", async () => {
  const seeded = github.world.seedOrg({
    login: "matchorg",
    repos: 2,
    prsPerRepo: 3,
    members: 4,
    commitsPerPr: [1, 2],
    installationId: INSTALLATION,
    appId: Number(APP_ID),
  });
  await deliverInstallationCreated(t.app, github.world, INSTALLATION);
  await t.app.drain(undefined, 120_000);
  const [busy, quiet] = seeded.repos as [(typeof seeded.repos)[0], (typeof seeded.repos)[0]];
  const [author, keeper, other] = seeded.members as [
    (typeof seeded.members)[0],
    (typeof seeded.members)[0],
    (typeof seeded.members)[0],
  ];
  expect(await syncRuns()).toEqual([]);

  // 1. Webhooks missed a pull request with a contractor's commit and one of `other`'s.
  later(60);
  const first = github.world.createPullRequest(busy.id, { authorId: author.id, title: "Missed" });
  github.world.addCommit(first.id, CONTRACTOR);
  github.world.addCommit(first.id, { authorUserId: other.id });
  later(5);
  await runDelta([busy.id, quiet.id]);
  const firstRuns = await syncRuns();
  const repositories = await t.database.db
    .select()
    .from(schema.repositories)
    .where(eq(schema.repositories.installationId, INSTALLATION));
  const driftOf = (repoId: number) => repositories.find((repo) => repo.id === repoId)!.lastDriftCount;
  // Queries that asked about each: the check of both; then the changed one's pull request by id.
  expect(firstRuns).toHaveLength(2);
  expect(firstRuns).toEqual(
    expect.arrayContaining([
      expect.objectContaining({
        repoId: busy.id,
        kind: "delta",
        changed: 1,
        queries: 2,
        drift: driftOf(busy.id),
      }),
      expect.objectContaining({ repoId: quiet.id, kind: "delta", changed: 0, queries: 1, drift: 0 }),
    ]),
  );
  expect(driftOf(busy.id)).toBeGreaterThanOrEqual(3);
  for (const run of firstRuns)
    expect(run.finishedAt.getTime()).toBeGreaterThanOrEqual(run.startedAt.getTime());

  // 2. An admin matches the contractor to `keeper`, and says `other`'s account is nobody's.
  const decided = new Date("2026-02-01T12:00:00Z");
  for (const [identity, memberUserId] of [
    ["email:contractor@agency.example", keeper.id],
    [`id:${other.id}`, null],
  ] as const) {
    await saveIdentityMatch(t.database.db, {
      installationId: INSTALLATION,
      identity,
      memberUserId,
      matchedByUserId: ADMIN,
      now: decided,
    });
  }
  const matchesBefore = await t.database.db.select().from(schema.identityMatches);

  // 3. keeper leaves, the contractor commits again, and the nightly syncs run.
  github.world.removeMember("matchorg", keeper.id);
  later(60);
  const second = github.world.createPullRequest(quiet.id, { authorId: author.id, title: "Missed again" });
  github.world.addCommit(second.id, CONTRACTOR);
  github.world.addCommit(second.id, { authorUserId: other.id });
  await enqueue(t.app.boss, "membersSync", { installationId: INSTALLATION });
  await t.app.drain(["members-sync"], 60_000);
  later(5);
  await runDelta([busy.id, quiet.id]);

  expect(await t.database.db.select().from(schema.identityMatches)).toEqual(matchesBefore);
  await expectCountsExact();
  const [leaver] = await t.database.db
    .select()
    .from(schema.members)
    .where(eq(schema.members.userId, keeper.id));
  expect(leaver).toMatchObject({ active: false });
  const identities = await listCommitIdentities(t.database.db, INSTALLATION);
  expect(
    identities.find((identity) => identity.identity === "email:contractor@agency.example"),
  ).toMatchObject({
    commits: 2,
    memberUserId: keeper.id,
    matchedBy: "manual",
  });
  expect(identities.find((identity) => identity.identity === `id:${other.id}`)).toMatchObject({
    memberUserId: null,
    matchedBy: null,
    automaticMemberUserId: other.id,
  });

  // One more run per repository, each with what it found.
  const runs = await syncRuns();
  expect(runs).toHaveLength(4);
  expect(runs.slice(2)).toEqual([
    expect.objectContaining({ repoId: busy.id, changed: 0, drift: 0, queries: 1 }),
    expect.objectContaining({ repoId: quiet.id, changed: 1, queries: 2 }),
  ]);
  expect(runs[3]!.drift).toBeGreaterThanOrEqual(3);
}, 180_000);
