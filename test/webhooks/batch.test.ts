import { gzipSync } from "node:zlib";
import { describe, expect, it } from "@jest/globals";
import pino from "pino";
import { describeError } from "../../src/errors.js";
import type { BatchJob, BatchOutcome } from "../../src/jobs/handlers/deps.js";
import { webhookBatchHandler } from "../support/app.js";
import { storedPayloadText } from "../support/database.js";
import { useTestApp } from "../support/harness.js";
import { waitFor } from "../support/wait.js";
import { webhookExample } from "../support/webhook-examples.js";

// The webhook worker's batch handler (src/jobs/handlers/process-webhook.ts) on fetches whose order
// the test chooses: deliveries go through the real intake, and the handler runs with the app's own
// database, pg-boss and Probot; no worker runs beside it (pg-boss decides the order of a real fetch).

const t = useTestApp({ queues: [] });
const silent = pino({ level: "silent" });

type Payload = Record<string, any>;
interface Delivery {
  event: "pull_request" | "pull_request_review" | "installation_repositories";
  payload: Payload;
}

const INSTALLATION = 1;
const REPO = 186853002;
const PR = 279147437;

const handler = () => webhookBatchHandler(t.app);

/** Stores deliveries through the intake (signed, checked); returns their GUIDs in order. */
async function store(deliveries: Delivery[]): Promise<string[]> {
  const ids: string[] = [];
  for (const { event, payload } of deliveries) {
    const response = await t.app.deliver(event, payload);
    expect(response.status).toBe(202);
    ids.push(response.id);
  }
  return ids;
}

function jobs(ids: string[], finalAttempt = false): BatchJob<"processWebhook">[] {
  return ids.map((deliveryId, index) => ({
    data: { deliveryId },
    context: { jobId: `job-${index}`, log: silent, finalAttempt, signal: new AbortController().signal },
  }));
}

/** Statements the app sends through its database pool while `work` runs (the driver's debug hook). */
async function countStatements(work: () => Promise<unknown>): Promise<number> {
  const { options } = t.app.runtime.database.sql;
  const before = options.debug;
  let statements = 0;
  options.debug = () => statements++;
  try {
    await work();
  } finally {
    options.debug = before;
  }
  return statements;
}

/** Runs `work` while Postgres refuses to store pull request `id` (a trigger stands for whatever a bad row hits). */
async function withPullRequestRefused(id: number, work: () => Promise<void>): Promise<void> {
  await t.database.sql.unsafe(`
    create function refuse_pull_request() returns trigger language plpgsql as $$
    begin
      if new.id = ${id} then raise exception 'pull request ${id} refused by the test'; end if;
      return new;
    end $$;
    create trigger refuse_pull_request before insert or update on pull_requests
      for each row execute function refuse_pull_request();`);
  try {
    await work();
  } finally {
    await t.database.sql.unsafe(
      "drop trigger refuse_pull_request on pull_requests; drop function refuse_pull_request()",
    );
  }
}

/** One fetch of these deliveries, in this order. */
const processTogether = (ids: string[], finalAttempt = false) => handler()(jobs(ids, finalAttempt));

/** The same deliveries one fetch each: one transaction per delivery. */
async function processOneByOne(ids: string[]): Promise<void> {
  for (const id of ids) await handler()(jobs([id]));
}

const at = (minute: number) => new Date(Date.UTC(2019, 4, 15, 15, minute)).toISOString();
/** The same moment as postgres.js reads a timestamptz. */
const stored = (minute: number) => `2019-05-15 15:${String(minute).padStart(2, "0")}:00+00`;

function pullRequest(action: string, minute: number, patch: Payload = {}): Delivery {
  const payload = webhookExample("pull_request", action);
  payload.installation = { id: INSTALLATION };
  payload.pull_request = { ...payload.pull_request, id: PR, updated_at: at(minute), ...patch };
  return { event: "pull_request", payload };
}

function review(action: string, minute: number, patch: Payload): Delivery {
  const payload = webhookExample("pull_request_review", action);
  payload.installation = { id: INSTALLATION };
  payload.pull_request = {
    ...payload.pull_request,
    id: PR,
    updated_at: at(minute),
    title: `review ${minute}`,
  };
  payload.review = { ...payload.review, submitted_at: at(minute), ...patch };
  return { event: "pull_request_review", payload };
}

/** What the deliveries leave behind: rows, follow-ups and outcomes (bookkeeping columns aside). */
async function storedState() {
  const { sql } = t.database;
  return {
    pullRequests: await sql`select * from pull_requests order by installation_id, id`.then((rows) =>
      rows.map(({ written_at: _written, ...row }) => row),
    ),
    reviews: await sql`select * from reviews order by id`.then((rows) =>
      rows.map(({ written_at: _written, ...row }) => row),
    ),
    repositories: await sql`
      select id, installation_id, tracked, removed_at is not null as removed, last_activity_at
      from repositories order by id`,
    weeks: await sql`select distinct installation_id, week_start from weekly_metrics_pending order by 1, 2`,
    jobs: await sql`
      select name, data from pgboss.job where name <> 'process-webhook' order by name, data::text`,
    deliveries: await sql`
      select event, action, status, attempts, last_error, processed_at is not null as done
      from webhook_deliveries order by received_at, id`,
  };
}

async function resetState(): Promise<void> {
  await t.database.truncate();
  await t.database.sql`delete from pgboss.job`;
}

/** The state one-by-one processing of `deliveries` leaves, then the state one fetch of them leaves. */
async function bothWays(seed: Delivery[], deliveries: Delivery[]) {
  await processOneByOne(await store(seed));
  await processOneByOne(await store(deliveries));
  const oneByOne = await storedState();
  await resetState();
  await processOneByOne(await store(seed));
  const outcomes = await processTogether(await store(deliveries));
  return { oneByOne, together: await storedState(), outcomes };
}

describe("a fetch of pull request activity, applied as one set", () => {
  it("stores what one-by-one processing stores, for one pull request's deliveries out of order", async () => {
    // Stored before the batch: a version later than some of the batch's deliveries.
    const seed = [pullRequest("synchronize", 15, { title: "seeded", additions: 7 })];
    const deliveries = [
      review("submitted", 20, { id: 501, state: "approved", user: { id: 777, login: "ann", type: "User" } }),
      // Older than the review before it: changes nothing.
      pullRequest("synchronize", 10, { title: "too old", additions: 40 }),
      pullRequest("edited", 30, { title: "renamed", additions: 50 }),
      review("dismissed", 30, { id: 501, state: "dismissed", user: { id: 777, login: "ann", type: "User" } }),
      // Late: the review stays dismissed, and its pull request is older than the edit.
      review("submitted", 20, { id: 501, state: "approved", user: { id: 777, login: "ann", type: "User" } }),
      review("submitted", 40, {
        id: 502,
        state: "changes_requested",
        user: { id: 778, login: "bo", type: "User" },
      }),
      // A draft only its author sees: not stored.
      review("submitted", 40, {
        id: 503,
        state: "pending",
        submitted_at: null,
        user: { id: 779, login: "cy" },
      }),
      pullRequest("ready_for_review", 50, { title: "ready", draft: false, additions: 60 }),
      pullRequest("opened", 5, { title: "opened long ago", additions: 1 }),
    ];
    // Merged, in a payload without sizes (as some GHES versions send): the sizes stored stay.
    const closed = pullRequest("closed", 55, {
      title: "merged",
      state: "closed",
      merged: true,
      merged_at: at(55),
      closed_at: at(55),
    });
    for (const key of ["additions", "deletions", "changed_files", "commits"])
      delete closed.payload.pull_request[key];
    deliveries.splice(deliveries.length - 1, 0, closed);

    const { oneByOne, together, outcomes } = await bothWays(seed, deliveries);

    expect(outcomes).toEqual(deliveries.map(() => ({ ok: true })));
    expect(together).toEqual(oneByOne);
    // And what that is: the latest version of each field, a dismissed review kept dismissed.
    expect(together.pullRequests).toEqual([
      expect.objectContaining({
        title: "merged",
        state: "merged",
        additions: 60,
        ready_for_review_at: stored(50),
        updated_at: stored(55),
      }),
    ]);
    expect(together.reviews.map((row) => [row.id, row.state])).toEqual([
      ["501", "dismissed"],
      ["502", "changes_requested"],
    ]);
    expect(together.repositories).toEqual([expect.objectContaining({ last_activity_at: stored(55) })]);
    expect(together.jobs.filter((job) => job.name === "refresh-pull-request")).toHaveLength(1);
    expect(together.deliveries.filter((row) => row.status === "processed")).toHaveLength(
      deliveries.length + 1,
    );
  });

  it("a delivery older than what is stored changes nothing, even when a newer one of the batch lacks its fields", async () => {
    const seed = [pullRequest("synchronize", 15, { additions: 7 })];
    const deliveries = [
      pullRequest("synchronize", 10, { additions: 99 }),
      review("submitted", 20, { id: 501, state: "commented" }),
    ];
    const { oneByOne, together } = await bothWays(seed, deliveries);
    expect(together).toEqual(oneByOne);
    expect(together.pullRequests).toEqual([
      expect.objectContaining({ additions: 7, updated_at: stored(20) }),
    ]);
  });

  // The repository's access revoked (an event handled one by one) between pull request deliveries:
  // an event about the repository after the removal stores it again, one before does not.
  it.each([
    ["before", ["edited", "removed"], true],
    ["after", ["edited", "removed", "edited"], false],
  ])(
    "deliveries of other events keep their place between the sets (pull request %s the removal)",
    async (_name, sequence, removedAtTheEnd) => {
      const removed = webhookExample("installation_repositories", "removed");
      removed.installation.id = INSTALLATION;
      removed.repositories_removed = [
        {
          id: REPO,
          node_id: "R_1",
          name: "Hello-World",
          full_name: "Codertocat/Hello-World",
          private: false,
        },
      ];
      const deliveries = sequence.map((step, i): Delivery =>
        step === "removed"
          ? { event: "installation_repositories", payload: removed }
          : pullRequest("edited", 20 + i, { title: `edit ${i}` }),
      );
      const { oneByOne, together } = await bothWays([pullRequest("opened", 10)], deliveries);
      expect(together).toEqual(oneByOne);
      expect(together.repositories).toEqual([expect.objectContaining({ removed: removedAtTheEnd })]);
    },
  );
});

describe("outcomes of a fetch", () => {
  /** A pull request of its own in the example repository. */
  const another = (id: number, number: number) =>
    pullRequest("opened", 10, { id, number, title: `#${number}` });

  it("a delivery that fails fails alone, with its outcome; the rest of the batch is processed", async () => {
    await processOneByOne(await store([another(1001, 1)]));
    // Stored before intake checked payloads: a label event's body recorded as pull_request.opened.
    const label = { ...webhookExample("label", "created"), action: "opened" };
    await t.database.sql`
      insert into webhook_deliveries (id, event, action, status, payload)
      values ('refused', 'pull_request', 'opened', 'queued', ${JSON.stringify(label)}::jsonb)`;
    // Postgres refuses one pull request's row.
    await withPullRequestRefused(1003, async () => {
      const [first, bad, last] = await store([another(1002, 2), another(1003, 3), another(1004, 4)]);
      const outcomes = await processTogether([first!, "refused", bad!, last!]);

      expect(outcomes.map((outcome) => outcome.ok)).toEqual([true, true, false, true]);
      expect(describeError((outcomes[2] as Extract<BatchOutcome, { ok: false }>).error)).toContain(
        "refused by the test",
      );
      expect(await t.database.sql`select id from pull_requests order by id`).toEqual(
        ["1001", "1002", "1004"].map((id) => ({ id })),
      );
      const recorded = await t.database.sql`
        select id, status, attempts, processed_at is not null as done, last_error from webhook_deliveries`;
      const byId = new Map(recorded.map((row) => [row.id, row]));
      expect(byId.get(first!)).toMatchObject({
        status: "processed",
        attempts: 1,
        done: true,
        last_error: null,
      });
      expect(byId.get(last!)).toMatchObject({ status: "processed", attempts: 1, done: true });
      expect(byId.get("refused")).toMatchObject({
        status: "ignored",
        attempts: 1,
        done: true,
        last_error: "pull_request payload does not match its schema",
      });
      // Left for its job's retry; on the last attempt it is failed (src/webhooks/recovery.ts retries those).
      expect(byId.get(bad!)).toMatchObject({ status: "queued", attempts: 1, done: false });
      expect(byId.get(bad!)!.last_error).toContain("refused by the test");
      await processTogether([bad!], true);
      const [failed] = await t.database
        .sql`select status, attempts from webhook_deliveries where id = ${bad!}`;
      expect(failed).toEqual({ status: "failed", attempts: 2 });
      // The refreshes of the pull requests stored, not of the one refused.
      const refreshed = await t.database.sql`
        select data->>'pullRequestId' as id from pgboss.job where name = 'refresh-pull-request' order by 1`;
      expect(refreshed).toEqual(["1001", "1002", "1004"].map((id) => ({ id })));
    });
  });

  it("reads the handled part of each payload, and the whole payload of a delivery stored without one (before migration 0018)", async () => {
    const [read, before] = await store([another(1001, 1), another(1002, 2)]);
    // Were the whole payload read, this delivery would be refused: it is now another event's body.
    const label = { ...webhookExample("label", "created"), action: "opened" };
    await t.database.sql`
      update webhook_deliveries set payload_gzip = ${gzipSync(JSON.stringify(label))} where id = ${read!}`;
    // Stored as before migration 0018 (and 0019): its payload as json, no handled part.
    await t.database.sql`
      update webhook_deliveries
      set payload = ${await storedPayloadText(t.database, before!)}::json, payload_gzip = null, handled_payload = null
      where id = ${before!}`;

    expect(await processTogether([read!, before!])).toEqual([{ ok: true }, { ok: true }]);
    expect(await t.database.sql`select id, title from pull_requests order by id`).toEqual([
      { id: "1001", title: "#1" },
      { id: "1002", title: "#2" },
    ]);
    expect(await t.database.sql`select status, last_error from webhook_deliveries`).toEqual([
      { status: "processed", last_error: null },
      { status: "processed", last_error: null },
    ]);
  });

  it("processes a delivery once: twice in one fetch, or its job run again", async () => {
    const [id] = await store([another(1001, 1)]);
    expect(await processTogether([id!, id!])).toEqual([{ ok: true }, { ok: true }]);
    expect(await processTogether([id!])).toEqual([{ ok: true }]);
    expect(await t.database.sql`select status, attempts from webhook_deliveries`).toEqual([
      { status: "processed", attempts: 1 },
    ]);
    // A redelivery of the GUID is acknowledged by the intake and never queued again.
    const again = await t.app.deliver("pull_request", another(1001, 1).payload, { id });
    expect(again.body).toMatchObject({ duplicate: true });
    expect(await t.app.jobs("process-webhook")).toHaveLength(1);
  });

  it("a job naming several deliveries fails with one of them, and its retry processes only that one", async () => {
    const ids = await store([another(1002, 2), another(1003, 3), another(1004, 4)]);
    const job = (final: boolean): BatchJob<"processWebhook"> => ({
      data: { deliveryIds: ids, installationId: INSTALLATION },
      context: { jobId: "group", log: silent, finalAttempt: final, signal: new AbortController().signal },
    });
    const attempts = () =>
      t.database.sql`select id, status, attempts from webhook_deliveries order by id`.then((rows) =>
        Object.fromEntries(rows.map((row) => [row.id, [row.status, row.attempts]])),
      );
    await withPullRequestRefused(1003, async () => {
      const [outcome] = await handler()([job(false)]);
      expect(outcome!.ok).toBe(false);
      expect(await attempts()).toEqual({
        [ids[0]!]: ["processed", 1],
        [ids[1]!]: ["queued", 1],
        [ids[2]!]: ["processed", 1],
      });
    });
    expect(await handler()([job(true)])).toEqual([{ ok: true }]);
    expect(await attempts()).toEqual({
      [ids[0]!]: ["processed", 1],
      [ids[1]!]: ["processed", 2],
      [ids[2]!]: ["processed", 1],
    });
  });

  it("creates a repository it does not know first, so a writer holding its pull request and waiting for it does not deadlock with it", async () => {
    await resetState();
    // The pull request is stored; its repository is not (taken out of the installation, say).
    await processOneByOne(await store([pullRequest("opened", 10)]));
    await t.database.sql`delete from repositories where id = ${REPO}`;
    const [id] = await store([pullRequest("edited", 20, { title: "edited" })]);
    // A backfill page holds the pull request it stored and next writes its repository.
    const writer = await t.database.sql.reserve();
    try {
      await writer`begin`;
      await writer`update pull_requests set title = title where id = ${PR}`;
      const processing = processTogether([id!]);
      await waitFor(
        async () => {
          const [row] = await t.database.sql<{ waiting: number }[]>`
            select count(*)::int as waiting from pg_stat_activity
            where wait_event_type = 'Lock' and query like 'insert into "pull_requests"%'`;
          return row!.waiting > 0;
        },
        { what: "the fetch to wait for the pull request" },
      );
      // Created by the fetch in the transaction that waits, it would wait for that one (deadlock).
      await writer`
        insert into repositories (id, installation_id, full_name)
        values (${REPO}, ${INSTALLATION}, 'listed/again')
        on conflict (id) do update set updated_at = now()`;
      await writer`commit`;
      expect(await processing).toEqual([{ ok: true }]);
    } finally {
      writer.release();
    }
    expect(
      await t.database.sql`select status, attempts from webhook_deliveries order by received_at`,
    ).toEqual([
      { status: "processed", attempts: 1 },
      { status: "processed", attempts: 1 },
    ]);
    expect(await t.database.sql`select title from pull_requests`).toEqual([{ title: "edited" }]);
  });

  it("a fetch costs the same statements whatever its number of deliveries", async () => {
    const statementsFor = async (prs: number) => {
      await resetState();
      const seed = Array.from({ length: prs }, (_, i) => another(2000 + i, 1 + i));
      await processTogether(await store(seed));
      const ids = await store(
        seed.map(({ payload: { pull_request: pr } }) =>
          pullRequest("edited", 20, { id: pr.id, number: pr.number, title: "edited" }),
        ),
      );
      const statements = await countStatements(async () =>
        expect(await processTogether(ids)).toEqual(ids.map(() => ({ ok: true }))),
      );
      const titles = await t.database.sql`select distinct title from pull_requests`;
      expect(titles).toEqual([{ title: "edited" }]);
      return statements;
    };
    const few = await statementsFor(2);
    const many = await statementsFor(25);
    expect(many).toBe(few);
  });
});
