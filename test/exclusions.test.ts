import { expect, it } from "@jest/globals";
import pino from "pino";
import type { BatchJob } from "../src/jobs/handlers/deps.js";
import { selectPullRequestExport } from "../src/db/queries/metrics.js";
import { defaultInstallationSettings } from "../src/settings.js";
import { recomputeDerivedValues } from "../src/sync/recompute.js";
import { saveSettings } from "../src/sync/settings.js";
import { webhookBatchHandler } from "./support/app.js";
import { useTestApp } from "./support/harness.js";
import { webhookExample } from "./support/webhook-examples.js";

// Exclusions end to end on the webhook path: signed pull_request deliveries (opened, labeled,
// unlabeled) store the labels GitHub sends, the stored reason follows them under the default
// settings (skip-metrics), new settings saved are applied by the recompute, and the counted
// relation (figures, CSV) leaves excluded pull requests out unless the CSV asks for them.

const t = useTestApp({ queues: [] });
const silent = pino({ level: "silent" });
const INSTALLATION = 1;
const PR = 279147437;

async function deliver(action: string, minute: number, labels: string[]) {
  const payload = webhookExample("pull_request", "opened");
  payload.action = action;
  payload.installation = { id: INSTALLATION };
  // As GitHub sends them: labeled and unlabeled name the label at the top level too.
  if (action === "labeled" || action === "unlabeled") {
    payload.label = webhookExample("pull_request", "labeled").label;
  }
  payload.pull_request = {
    ...payload.pull_request,
    id: PR,
    updated_at: new Date(Date.UTC(2019, 4, 15, 16, minute)).toISOString(),
    labels: labels.map((name, index) => ({ id: index + 1, name, color: "ededed", default: false })),
  };
  const response = await t.app.deliver("pull_request", payload);
  expect(response.status).toBe(202);
  const job: BatchJob<"processWebhook"> = {
    data: { deliveryId: response.id },
    context: { jobId: "job", log: silent, finalAttempt: false, signal: new AbortController().signal },
  };
  await webhookBatchHandler(t.app)([job]);
}

async function storedRow() {
  const [row] = await t.database.sql<{ labels: string[] | null; excluded_reason: string | null }[]>`
    select labels, excluded_reason from pull_requests where id = ${PR}`;
  return row;
}

const range = { from: "2019-05-13", to: "2019-05-13", timeZone: "UTC", humansOnly: false };
const exported = (includeExcluded: boolean) =>
  selectPullRequestExport(t.database.sql, INSTALLATION, { ...range, includeExcluded });

it("follows labels from signed deliveries and leaves excluded pull requests out of every figure", async () => {
  await deliver("opened", 1, ["bug"]);
  expect(await storedRow()).toEqual({ labels: ["bug"], excluded_reason: null });
  expect(await exported(false)).toHaveLength(1);

  await deliver("labeled", 2, ["bug", "Skip-Metrics"]);
  expect(await storedRow()).toEqual({
    labels: ["bug", "Skip-Metrics"],
    excluded_reason: "label: Skip-Metrics",
  });
  expect(await exported(false)).toHaveLength(0);
  const listed = await exported(true);
  expect(listed.map((row) => row.excludedReason)).toEqual(["label: Skip-Metrics"]);

  await deliver("unlabeled", 3, ["bug"]);
  expect(await storedRow()).toEqual({ labels: ["bug"], excluded_reason: null });

  // New settings: the recompute after saving applies them to what is stored.
  const [{ author } = { author: "" }] = await t.database.sql<{ author: string }[]>`
    select author_login as author from pull_requests where id = ${PR}`;
  const settings = {
    ...defaultInstallationSettings,
    excludedAuthors: [author.toUpperCase()],
  };
  const change = await saveSettings(t.app.runtime.database, t.app.boss, INSTALLATION, settings);
  expect(change.exclusionsChanged).toBe(true);
  const jobs = await t.database.sql`select 1 from pgboss.job where name = 'recompute-pull-requests'`;
  expect(jobs.length).toBeGreaterThan(0);
  await recomputeDerivedValues(t.database.db, INSTALLATION, settings);
  expect((await storedRow())?.excluded_reason).toBe(`author: ${author}`);
  expect(await exported(false)).toHaveLength(0);
});
