import { afterAll, beforeAll, expect, it } from "@jest/globals";
import { desc, eq, inArray } from "drizzle-orm";
import * as schema from "../../src/db/schema/index.js";
import { APP_ID, QUICK_RECOVERY, startTestApp } from "../support/app.js";
import { startAppProcess, type AppProcess } from "../support/app-process.js";
import {
  deliverInstallationCreated,
  expectEachPullRequestCountedOnce,
  waitForBackfill,
} from "../support/delivery-stream.js";
import { startFakeGitHub, type FakeGitHub } from "../support/fake-github/index.js";
import { useTestApp } from "../support/harness.js";

// A real crash: the app's own entry point runs as a child process and is SIGKILLed in the middle of
// a backfill. A fresh worker must resume from the saved cursor, not start over, and finish with
// exactly GitHub's data.

let github: FakeGitHub;
let child: AppProcess | undefined;

beforeAll(async () => {
  // Some latency so the backfill is still running when the process is killed.
  github = await startFakeGitHub({ seed: 3, latency: { baseMs: 150, perNodeMs: 0.5 } });
});
// No in-process workers: the child process does the first part of the work.
// Every process on the database shares one job timing (each start applies it to the queues): a
// dead job and its GitHub slot are free after 10 s, not 30 s (QUICK_RECOVERY).
const env = () => ({ GHE_HOST: github.host, GHE_PROTOCOL: "http", ...QUICK_RECOVERY });
const t = useTestApp(() => ({ env: env(), queues: [] }));
afterAll(async () => {
  await child?.kill();
  await github.close();
});

it("resumes a backfill from its cursor after the process is killed", async () => {
  const installationId = 9100;
  const { repos } = github.world.seedOrg({
    login: "crashy",
    repos: 1,
    prsPerRepo: 600,
    members: 3,
    spanDays: 25,
    installationId,
    appId: Number(APP_ID),
  });
  const repoId = repos[0]!.id;
  const truth = github.world.listPullRequests(repoId);

  child = await startAppProcess({
    databaseUrl: t.database.url,
    githubHost: github.host,
    env: QUICK_RECOVERY,
  });
  // The in-process server only takes the delivery; the child's workers process it.
  await deliverInstallationCreated(t.app, github.world, installationId);

  await waitForBackfill(t.database, [repoId], "under way", {
    timeoutMs: 60_000,
    what: "the backfill to start in the child process",
  });
  await child.kill();
  // Read after the kill: the backfill the dead process left unfinished, so the worker below has to
  // resume it (read before, it could have finished in between and left nothing to resume).
  const [repoRow] = await t.database.db
    .select()
    .from(schema.repositories)
    .where(eq(schema.repositories.id, repoId));
  expect(repoRow!.syncStatus).toBe("syncing");
  expect(repoRow!.prsDone).toBeLessThan(truth.length);

  // Forget the newest pull requests, which the first committed page held: resuming from the cursor
  // does not fetch them again, starting over would.
  const newest = await t.database.db
    .select({ id: schema.pullRequests.id })
    .from(schema.pullRequests)
    .orderBy(desc(schema.pullRequests.createdAt))
    .limit(10);
  await t.database.db.delete(schema.pullRequests).where(
    inArray(
      schema.pullRequests.id,
      newest.map((row) => row.id),
    ),
  );

  // A fresh process (wired by the same runtime) whose monitor checks heartbeats every second
  // (QUICK_RECOVERY), so the dead job is found as soon as its 10 s heartbeat lapses.
  const worker = await startTestApp(t.database, {
    env: env(),
  });
  try {
    await waitForBackfill(t.database, [repoId], "complete", {
      timeoutMs: 120_000,
      what: "the resumed backfill to complete",
    });
  } finally {
    await worker.stop();
  }

  const stored = await t.database.db.select({ id: schema.pullRequests.id }).from(schema.pullRequests);
  const forgotten = new Set(newest.map((row) => row.id));
  expect(stored.map((row) => row.id).sort()).toEqual(
    truth
      .filter((pr) => !forgotten.has(pr.id))
      .map((pr) => pr.id)
      .sort(),
  );
  // Pages are counted once: committed with their rows, never again after the crash.
  await expectEachPullRequestCountedOnce(t.database, github.world, [repoId]);
}, 180_000);
