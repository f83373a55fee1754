import { describe, expect, it } from "@jest/globals";
import { asc } from "drizzle-orm";
import * as schema from "../src/db/schema/index.js";
import { defaultInstallationSettings } from "../src/settings.js";
import { useTestApp } from "./support/harness.js";
import { webhookExample } from "./support/webhook-examples.js";

// Every handled event, delivered as a real payload through the real endpoint with a real signature,
// processed by the real pg-boss worker. GitHub is not called here (refresh jobs stay queued);
// test/refresh.test.ts covers what those fetch.

const t = useTestApp({ queues: ["processWebhook"] });

type Payload = Record<string, any>;

async function send(event: string, payload: Payload) {
  const response = await t.app.deliver(event, payload);
  expect(response.status).toBe(202);
  await t.app.drain(["process-webhook"]);
  const [delivery] = await t.database
    .sql`select status, last_error from webhook_deliveries where id = ${response.id}`;
  expect(delivery).toEqual({ status: "processed", last_error: null });
}

// Read through drizzle so timestamps come back as Dates and numerics as numbers.
const pullRequests = () =>
  t.database.db.select().from(schema.pullRequests).orderBy(asc(schema.pullRequests.id));
const installations = () => t.database.db.select().from(schema.installations);
const repositories = () =>
  t.database.db.select().from(schema.repositories).orderBy(asc(schema.repositories.id));

function prPayload(action: string, patch: Payload = {}): Payload {
  const payload = webhookExample("pull_request", action);
  payload.pull_request = { ...payload.pull_request, ...patch };
  return payload;
}

describe("installation events", () => {
  it("created: stores the installation and its repositories, tracks them and queues their backfills", async () => {
    const payload = webhookExample("installation", "created");
    await send("installation", payload);
    const [installation] = await t.database
      .sql`select id, account_login, account_type, deleted_at from installations`;
    expect(installation).toEqual({
      id: String(payload.installation.id),
      account_login: "Codertocat",
      account_type: "User",
      deleted_at: null,
    });
    const repos = await t.database.sql`select id, full_name, tracked, sync_status from repositories`;
    expect(repos).toEqual(
      payload.repositories.map((repo: Payload) => ({
        id: String(repo.id),
        full_name: repo.full_name,
        tracked: true,
        sync_status: "queued",
      })),
    );
    expect((await t.app.jobs("backfill")).map((job) => job.data)).toEqual(
      payload.repositories.map((repo: Payload) => ({
        installationId: payload.installation.id,
        repoId: repo.id,
      })),
    );
    expect(await t.app.jobs("sync-repositories")).toHaveLength(1);
  });

  it("created for an organization also queues a member sync; auto-track off leaves repositories untracked", async () => {
    const payload = webhookExample("installation", "created");
    payload.installation.account = { ...payload.installation.account, type: "Organization", login: "acme" };
    await t.database.db.insert(schema.installations).values({
      id: payload.installation.id,
      accountId: 1,
      accountLogin: "acme",
      accountType: "Organization",
      settings: { ...defaultInstallationSettings, autoTrackNewRepos: false },
    });
    await send("installation", payload);
    expect(await t.database.sql`select tracked from repositories`).toEqual(
      payload.repositories.map(() => ({ tracked: false })),
    );
    expect(await t.app.jobs("backfill")).toHaveLength(0);
    expect(await t.app.jobs("members-sync")).toHaveLength(1);
  });

  it("deleted changes nothing by itself: it queues a confirmation with GitHub (test/installations.test.ts)", async () => {
    await send("installation", webhookExample("installation", "created"));
    const before = await installations();
    const deleted = webhookExample("installation", "deleted");
    deleted.installation.id = webhookExample("installation", "created").installation.id;
    await send("installation", deleted);
    expect(await installations()).toEqual(before);
    expect(await t.database.sql`select id from repositories`).toHaveLength(1);
    expect((await t.app.jobs("confirm-installation")).map((job) => job.data)).toEqual([
      { installationId: deleted.installation.id },
    ]);
  });

  it("suspend and unsuspend", async () => {
    const suspend = webhookExample("installation", "suspend");
    await send("installation", suspend);
    expect((await installations())[0]!.suspendedAt).toBeInstanceOf(Date);
    await send("installation", webhookExample("installation", "unsuspend"));
    expect(await t.database.sql`select suspended_at from installations`).toEqual([{ suspended_at: null }]);
  });

  it("new_permissions_accepted refreshes the installation and its repository list", async () => {
    await send("installation", webhookExample("installation", "new_permissions_accepted"));
    expect(await t.database.sql`select id from installations`).toHaveLength(1);
    expect(await t.app.jobs("sync-repositories")).toHaveLength(1);
  });
});

describe("installation_repositories events", () => {
  it("added tracks and backfills the new repositories; removed keeps them, untracked", async () => {
    const added = webhookExample("installation_repositories", "added");
    await send("installation_repositories", added);
    const ids = added.repositories_added.map((repo: Payload) => String(repo.id));
    expect((await t.database.sql`select id, tracked from repositories order by id`).map((r) => r.id)).toEqual(
      ids.sort(),
    );
    expect(await t.app.jobs("backfill")).toHaveLength(ids.length);

    const removed = webhookExample("installation_repositories", "removed");
    removed.installation = added.installation;
    removed.repositories_removed = added.repositories_added.slice(0, 1);
    await send("installation_repositories", removed);
    const gone = (await repositories()).find((repo) => repo.id === added.repositories_added[0].id);
    expect(gone!.tracked).toBe(false);
    expect(gone!.removedAt).toBeInstanceOf(Date);
  });
});

describe("repository events", () => {
  // The stored repository differs from the payload in every field the handler writes: a handler
  // that did nothing would leave these values and fail the test.
  async function storeRepository(id: number, patch: Record<string, unknown>) {
    await t.database.db
      .insert(schema.installations)
      .values({ id: 1, accountId: 1, accountLogin: "acme", accountType: "Organization" });
    await t.database.db.insert(schema.repositories).values({
      id,
      installationId: 1,
      fullName: "acme/old-name",
      private: true,
      defaultBranch: "trunk",
      tracked: true,
      syncStatus: "complete",
      ...patch,
    });
  }

  function repositoryPayload(action: string) {
    const payload = webhookExample("repository", action);
    payload.installation = { id: 1 };
    payload.repository = {
      ...payload.repository,
      full_name: "acme/new-name",
      private: false,
      default_branch: "main",
    };
    return payload;
  }

  it.each(["renamed", "transferred"])("%s updates the name and keeps the history", async (action) => {
    const payload = repositoryPayload(action);
    await storeRepository(payload.repository.id, { archived: !payload.repository.archived });
    await send("repository", payload);
    const [repo] = await repositories();
    expect(repo).toMatchObject({
      fullName: "acme/new-name",
      private: false,
      defaultBranch: "main",
      archived: payload.repository.archived,
      tracked: true,
      removedAt: null,
    });
  });

  it.each([
    ["archived", false, true],
    ["unarchived", true, false],
  ])("%s sets archived (stored %s → %s)", async (action, stored, expected) => {
    const payload = repositoryPayload(action);
    // GitHub's example payloads carry the state before the event; the action decides.
    payload.repository.archived = stored;
    await storeRepository(payload.repository.id, { archived: stored });
    await send("repository", payload);
    const [repo] = await repositories();
    expect(repo).toMatchObject({ archived: expected, fullName: "acme/new-name", removedAt: null });
  });

  it("deleted marks the repository removed and untracked, and keeps it", async () => {
    const payload = repositoryPayload("deleted");
    await storeRepository(payload.repository.id, {});
    await send("repository", payload);
    const [repo] = await repositories();
    expect(repo).toMatchObject({ tracked: false, fullName: "acme/old-name" });
    expect(repo!.removedAt).toBeInstanceOf(Date);
  });
});

describe("organization events", () => {
  it("member_added stores the member by GitHub id; member_removed keeps them, inactive", async () => {
    const added = webhookExample("organization", "member_added");
    added.installation = { id: 1 };
    await t.database
      .sql`insert into installations (id, account_id, account_login, account_type) values (1, 1, 'acme', 'Organization')`;
    await send("organization", added);
    const user = added.membership.user;
    expect(await t.database.sql`select user_id, login, active from members`).toEqual([
      { user_id: String(user.id), login: user.login, active: true },
    ]);
    const removed = structuredClone(added);
    removed.action = "member_removed";
    await send("organization", removed);
    expect(await t.database.sql`select active from members`).toEqual([{ active: false }]);
  });
});

describe("pull_request events", () => {
  it("opened stores the pull request and queues a refresh of its commits and reviews", async () => {
    const payload = prPayload("opened");
    await send("pull_request", payload);
    const [pr] = await pullRequests();
    expect(pr).toMatchObject({
      id: payload.pull_request.id,
      number: 2,
      state: "open",
      title: payload.pull_request.title,
      additions: payload.pull_request.additions,
      commitsCount: payload.pull_request.commits,
      cycleTimeHours: null,
      isRevert: false,
    });
    expect((await t.app.jobs("refresh-pull-request")).map((job) => job.data)).toEqual([
      {
        installationId: 1,
        repoId: payload.repository.id,
        pullRequestId: payload.pull_request.id,
        nodeId: payload.pull_request.node_id,
      },
    ]);
    // An installation we never saw is created from the payload rather than dropped, and started
    // as installation.created would: its repository listing (and nightly sync) and members.
    expect(await t.database.sql`select id, account_login from installations`).toEqual([
      { id: "1", account_login: "Codertocat" },
    ]);
    expect((await t.app.jobs("sync-repositories")).map((job) => job.data)).toEqual([{ installationId: 1 }]);
  });

  it("of a repository not seen before: the repository is stored, tracked, and its history backfilled", async () => {
    await t.database.sql`
      insert into installations (id, account_id, account_login, account_type) values (1, 1, 'acme', 'Organization')`;
    const payload = prPayload("opened");
    await send("pull_request", payload);
    expect(await t.database.sql`select id, tracked, sync_status from repositories`).toEqual([
      { id: String(payload.repository.id), tracked: true, sync_status: "queued" },
    ]);
    expect((await t.app.jobs("backfill")).map((job) => job.data)).toEqual([
      { installationId: 1, repoId: payload.repository.id },
    ]);
    // The installation was known: nothing of it is started again.
    expect(await t.app.jobs("sync-repositories")).toEqual([]);
  });

  it.each([
    [
      "edited",
      { title: 'Revert "Add login"', updated_at: "2019-05-16T00:00:00Z" },
      { title: 'Revert "Add login"', isRevert: true },
    ],
    [
      "synchronize",
      { additions: 40, deletions: 2, commits: 3, updated_at: "2019-05-16T00:00:00Z" },
      { additions: 40, commitsCount: 3 },
    ],
    ["converted_to_draft", { draft: true, updated_at: "2019-05-16T00:00:00Z" }, { draft: true }],
    ["reopened", { state: "open", updated_at: "2019-05-16T00:00:00Z" }, { state: "open" }],
    ["edited", { head: { ref: "hotfix/login" }, updated_at: "2019-05-16T00:00:00Z" }, { isHotfix: true }],
  ])("%s updates the stored pull request", async (action, patch, expected) => {
    await send("pull_request", prPayload("opened"));
    await send("pull_request", prPayload(action, patch));
    expect((await pullRequests())[0]).toMatchObject(expected);
  });

  it("ready_for_review records when the pull request became ready", async () => {
    await send("pull_request", prPayload("opened", { draft: true }));
    await send(
      "pull_request",
      prPayload("ready_for_review", { draft: false, updated_at: "2019-05-15T18:00:00Z" }),
    );
    const [pr] = await pullRequests();
    expect(pr!.draft).toBe(false);
    expect(pr!.readyForReviewAt).toEqual(new Date("2019-05-15T18:00:00Z"));
  });

  it("closed with a merge computes the cycle time", async () => {
    await send("pull_request", prPayload("opened"));
    await send(
      "pull_request",
      prPayload("closed", {
        state: "closed",
        merged: true,
        merged_at: "2019-05-16T03:20:33Z",
        closed_at: "2019-05-16T03:20:33Z",
        updated_at: "2019-05-16T03:20:33Z",
      }),
    );
    expect((await pullRequests())[0]).toMatchObject({ state: "merged", cycleTimeHours: 12 });
  });

  it("an older event never rolls a newer state back (closed delivered before opened)", async () => {
    await send(
      "pull_request",
      prPayload("closed", {
        state: "closed",
        merged: false,
        closed_at: "2019-05-16T00:00:00Z",
        updated_at: "2019-05-16T00:00:00Z",
      }),
    );
    await send("pull_request", prPayload("opened"));
    const [pr] = await pullRequests();
    expect(pr).toMatchObject({
      state: "closed",
      closedAt: new Date("2019-05-16T00:00:00Z"),
      updatedAt: new Date("2019-05-16T00:00:00Z"),
    });
  });

  it("ignores pull requests of a repository an admin untracked", async () => {
    await send("pull_request", prPayload("opened"));
    await t.database.sql`update repositories set tracked = false`;
    await send("pull_request", prPayload("edited", { title: "changed", updated_at: "2019-05-17T00:00:00Z" }));
    expect((await pullRequests())[0]!.title).not.toBe("changed");
  });
});

describe("pull_request_review events", () => {
  function reviewPayload(action: string, review: Payload = {}, pr: Payload = {}): Payload {
    const payload = webhookExample("pull_request_review", action);
    payload.review = { ...payload.review, user: { id: 777, login: "reviewer", type: "User" }, ...review };
    payload.pull_request = { ...payload.pull_request, ...pr };
    return payload;
  }

  it("submitted before the pull request's own events creates both and computes the review time", async () => {
    await send(
      "pull_request_review",
      reviewPayload("submitted", { state: "approved", submitted_at: "2019-05-15T17:20:33Z" }),
    );
    const [pr] = await pullRequests();
    expect(pr).toMatchObject({ reviewTimeHours: 2, firstReviewAt: new Date("2019-05-15T17:20:33Z") });
    expect(await t.database.sql`select state, reviewer_id from reviews`).toEqual([
      { state: "approved", reviewer_id: "777" },
    ]);
    // The pull request's own, older "opened" arrives later: it changes nothing. What the review
    // payload lacks (additions, commits) comes from the queued refresh, which asks GitHub.
    await send("pull_request", prPayload("opened"));
    expect((await pullRequests())[0]).toMatchObject({
      reviewTimeHours: 2,
      updatedAt: new Date("2019-05-15T15:20:38Z"),
      additions: null,
    });
    expect(await t.app.jobs("refresh-pull-request")).toHaveLength(1);
  });

  it("a review by the author or a bot does not count as the first review", async () => {
    const authorId = webhookExample("pull_request_review", "submitted").pull_request.user.id;
    await send(
      "pull_request_review",
      reviewPayload("submitted", { user: { id: authorId, login: "Codertocat", type: "User" } }),
    );
    await send(
      "pull_request_review",
      reviewPayload("submitted", { id: 5, user: { id: 9, login: "ci[bot]", type: "Bot" } }),
    );
    expect((await pullRequests())[0]).toMatchObject({ firstReviewAt: null, reviewTimeHours: null });
    expect(await t.database.sql`select id from reviews`).toHaveLength(2);
  });

  it("edited keeps the review; dismissed is final even if a late submitted arrives", async () => {
    await send("pull_request_review", reviewPayload("submitted", { state: "approved" }));
    await send("pull_request_review", reviewPayload("edited", { state: "approved", body: "edited" }));
    await send("pull_request_review", reviewPayload("dismissed", { state: "dismissed" }));
    await send("pull_request_review", reviewPayload("submitted", { state: "approved" }));
    expect(await t.database.sql`select state from reviews`).toEqual([{ state: "dismissed" }]);
  });

  it("a repeated delivery changes nothing", async () => {
    const payload = reviewPayload("submitted");
    const first = await t.app.deliver("pull_request_review", payload, { id: "dup" });
    await t.app.deliver("pull_request_review", payload, { id: "dup" });
    expect(first.status).toBe(202);
    await t.app.drain(["process-webhook"]);
    expect(await t.database.sql`select attempts from webhook_deliveries`).toEqual([{ attempts: 1 }]);
    expect(await t.database.sql`select id from reviews`).toHaveLength(1);
  });
});
