import { withSavepoint, withTransaction, type Db } from "../../db/client.js";
import {
  findDeliveries,
  recordDeliveryOutcomes,
  type DeliveryToProcess,
} from "../../db/queries/webhook-deliveries.js";
import type { DeliveryStatus } from "../../db/schema/index.js";
import { describeError, InvalidInputError } from "../../errors.js";
import type { WebhookProcessingOutcome } from "../../observability/metrics.js";
import { readActivity } from "../../webhooks/app.js";
import { FollowUps } from "../../webhooks/follow-ups.js";
import {
  applyPullRequestActivity,
  prepareRepositories,
  type PullRequestActivity,
} from "../../webhooks/handlers/pull-request-activity.js";
import { deliveryIdsOf } from "../../queue/catalog.js";
import type { BatchJob, BatchOutcome, JobDeps } from "./deps.js";

/** A delivery queued again waits for its job's retry. */
const METRIC_OUTCOMES: Record<DeliveryStatus, WebhookProcessingOutcome> = {
  processed: "processed",
  ignored: "ignored",
  queued: "retry",
  failed: "failed",
};

interface Entry {
  /** The place in the fetch of the job naming it: its outcome goes there (a job names several). */
  index: number;
  job: BatchJob<"processWebhook">;
  delivery: DeliveryToProcess;
}
type ActivityEntry = Entry & { activity: PullRequestActivity };
/** A run of pull request activity, applied as one set, or a delivery of another event. */
type Step = { run: ActivityEntry[] } | { one: Entry };

/**
 * Processes a fetch of stored deliveries:
 *
 *   1. Each delivery once: one processed before, or twice in the fetch (a redelivery queued while
 *      the first job waited), is skipped; one past its retention period, or whose payload does not
 *      match its event (stored before intake checked), is `ignored` with the reason.
 *   2. In their order: runs of pull_request and pull_request_review deliveries, each applied as one
 *      set (src/webhooks/handlers/pull-request-activity.ts) in a transaction that also does the
 *      follow-ups and records every outcome so far (repositories it does not know are created
 *      first, on their own); a delivery of another event between them goes
 *      through Probot to its handler (src/webhooks/app.ts), which commits on its own.
 *   3. What is left to record, in one last transaction.
 *
 * A job names the deliveries of one installation that the intake committed together (one, for
 * jobs of earlier versions and for those recovery queues). A set that fails is rolled back to its
 * savepoint and applied again one delivery per savepoint, so a bad delivery fails alone and the
 * rest of the batch goes on; its job fails, and its retry skips the job's deliveries that were
 * processed. A transaction that fails fails every job of the batch; they run again and skip what
 * was processed, so nothing is done twice. A delivery is `failed` only once its job's last retry
 * failed (src/webhooks/recovery.ts picks those up again); until then it stays `queued` for that
 * retry.
 */
export function processWebhooks(deps: JobDeps) {
  return {
    batch: async (jobs: BatchJob<"processWebhook">[]): Promise<BatchOutcome[]> => {
      const batch = new Batch(deps, jobs.length);
      const stored = await findDeliveries(
        deps.database.db,
        jobs.flatMap(({ data }) => deliveryIdsOf(data)),
      );
      for (const step of plan(batch, jobs, stored)) {
        if ("one" in step) await receive(deps, batch, step.one);
        else {
          await prepareRepositories(
            deps.boss,
            deps.database,
            step.run.map((entry) => entry.activity),
            deps.log,
          );
          await batch.commit((db, followUps) => applyRun(deps, batch, db, step.run, followUps));
        }
      }
      if (batch.pending) await batch.commit();
      return batch.outcomes;
    },
  };
}

/** Step 1: what each delivery of the fetch is, in order. */
function plan(
  batch: Batch,
  jobs: BatchJob<"processWebhook">[],
  stored: Map<string, DeliveryToProcess>,
): Step[] {
  const steps: Step[] = [];
  const seen = new Set<string>();
  const named = jobs.flatMap((job, index) => deliveryIdsOf(job.data).map((id) => ({ index, job, id })));
  for (const { index, job, id } of named) {
    const delivery = stored.get(id);
    if (!delivery) {
      job.context.log.warn({ deliveryId: id }, "delivery not found");
      continue;
    }
    if (delivery.status === "processed" || delivery.status === "ignored" || seen.has(delivery.id)) continue;
    seen.add(delivery.id);
    const entry = { index, job, delivery };
    if (delivery.payload === null) {
      batch.settle(entry, "ignored", "payload no longer kept");
      continue;
    }
    let activity: PullRequestActivity | undefined;
    try {
      activity = readActivity(delivery.event, delivery.payload);
    } catch (error) {
      batch.fail(entry, error);
      continue;
    }
    const last = steps.at(-1);
    if (!activity) steps.push({ one: entry });
    else if (last && "run" in last) last.run.push({ ...entry, activity });
    else steps.push({ run: [{ ...entry, activity }] });
  }
  return steps;
}

/** A delivery of another event, through Probot to its handler. */
async function receive(deps: JobDeps, batch: Batch, entry: Entry): Promise<void> {
  const { delivery } = entry;
  try {
    await deps.probot.receive({
      id: delivery.id,
      name: delivery.event,
      payload: delivery.payload,
    } as Parameters<typeof deps.probot.receive>[0]);
    batch.settle(entry, "processed");
  } catch (error) {
    batch.fail(entry, error);
  }
}

/** A run as one set; if the set fails, each delivery in a savepoint of its own. */
async function applyRun(
  deps: JobDeps,
  batch: Batch,
  db: Db,
  run: ActivityEntry[],
  followUps: FollowUps,
): Promise<void> {
  const together = new FollowUps();
  try {
    await withSavepoint(db, (set) =>
      applyPullRequestActivity(
        deps.boss,
        set,
        run.map((entry) => entry.activity),
        together,
      ),
    );
    followUps.merge(together);
    for (const entry of run) batch.settle(entry, "processed");
    return;
  } catch (error) {
    deps.log.warn(
      { err: error, deliveries: run.length },
      "webhook deliveries failed as a set; applying them one by one",
    );
  }
  for (const entry of run) {
    const own = new FollowUps();
    try {
      await withSavepoint(db, (one) => applyPullRequestActivity(deps.boss, one, [entry.activity], own));
      followUps.merge(own);
      batch.settle(entry, "processed");
    } catch (error) {
      batch.fail(entry, error);
    }
  }
}

interface Recorded {
  delivery: DeliveryToProcess;
  status: DeliveryStatus;
  error?: string | undefined;
}

/** The outcome of each job of a fetch, and the outcomes and follow-ups not yet committed. */
class Batch {
  readonly outcomes: BatchOutcome[];
  #recorded: Recorded[] = [];
  #followUps = new FollowUps();

  constructor(
    private readonly deps: JobDeps,
    size: number,
  ) {
    this.outcomes = Array.from({ length: size }, () => ({ ok: true }));
  }

  get pending(): boolean {
    return this.#recorded.length > 0;
  }

  /** The delivery's outcome, recorded at the next commit; its job is done. */
  settle({ delivery }: Entry, status: DeliveryStatus, error?: string): void {
    this.#recorded.push({ delivery, status, error });
  }

  /** A delivery whose handling threw: refused for good if its payload is, else left to its job's retry. */
  fail(entry: Entry, error: unknown): void {
    // Probot reports its handlers' errors as an AggregateError.
    const cause = error instanceof AggregateError && error.errors.length > 0 ? error.errors[0] : error;
    const { delivery, job } = entry;
    if (cause instanceof InvalidInputError) {
      // A payload that does not match its event (stored before intake checked it) will not on a retry.
      job.context.log.warn(
        { deliveryId: delivery.id, event: delivery.event, reason: cause.message },
        "webhook delivery refused",
      );
      this.settle(entry, "ignored", describeError(cause));
      return;
    }
    this.settle(entry, job.context.finalAttempt ? "failed" : "queued", describeError(cause));
    this.outcomes[entry.index] = { ok: false, error: cause };
  }

  /**
   * Runs `work` in a transaction that also does the follow-ups gathered and records every outcome
   * settled so far (work's own included): what was done and the record of it commit together.
   */
  async commit(work?: (db: Db, followUps: FollowUps) => Promise<void>): Promise<void> {
    const followUps = this.#followUps;
    await withTransaction(this.deps.database, async (db) => {
      await work?.(db, followUps);
      // Sent together; the follow-ups last (see FollowUps.apply).
      await Promise.all([
        recordDeliveryOutcomes(
          db,
          this.#recorded.map(({ delivery, status, error }) => ({ id: delivery.id, status, error })),
        ),
        followUps.apply(this.deps.boss, db),
      ]);
    });
    for (const { delivery, status } of this.#recorded) {
      this.deps.metrics?.webhookProcessed(delivery.event, METRIC_OUTCOMES[status], delivery.receivedAt);
    }
    this.#recorded = [];
    this.#followUps = new FollowUps();
  }
}
