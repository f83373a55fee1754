import type { Db } from "../../db/client.js";
import { listDriftByNight, type DriftNight } from "../../db/queries/sync-runs.js";
import {
  countDeliveriesByEvent,
  countQueuedJobs,
  findLastDelivery,
  listDeliveryFailures,
  measureProcessingLag,
  type DeliveryOutcome,
} from "../../db/queries/webhook-health.js";
import type { Installation } from "../../db/schema/index.js";
import { isTimeZone } from "../../metrics/weeks.js";
import { catalog, type QueueKey } from "../../queue/catalog.js";
import { parseInstallationSettings } from "../../settings.js";
import { formatCount, timeView } from "./format.js";
import { installationHeader, installationPath } from "./installation.js";

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** The deliveries table and the failures cover a day: enough to see last night's batch and today. */
const DELIVERY_WINDOW_MS = DAY_MS;
/** Lag is about now: an hour of deliveries, so a backlog that cleared this morning does not linger. */
const LAG_WINDOW_MS = HOUR_MS;
const FAILURES_SHOWN = 20;
export const DRIFT_NIGHTS = 14;
/** Repositories with the most drift first; the rest are summed up in a line. */
const DRIFT_ROWS_SHOWN = 50;
/** How often the live part of the page refreshes itself (htmx), in seconds. */
const POLL_SECONDS = 10;

const OUTCOMES: { outcome: DeliveryOutcome; label: string }[] = [
  { outcome: "processed", label: "Processed" },
  { outcome: "queued", label: "Waiting" },
  { outcome: "ignored", label: "Ignored" },
  { outcome: "refused", label: "Refused" },
  { outcome: "failed", label: "Failed" },
];

function eventName(event: string, action: string | null): string {
  return action ? `${event}.${action}` : event;
}

/** "0.4 s", "12 s", "3.5 min", "2.1 h": a lag at a glance. */
export function formatLag(seconds: number | null): string | null {
  if (seconds === null) return null;
  if (seconds < 10) return `${seconds.toFixed(1)} s`;
  if (seconds < 120) return `${Math.round(seconds)} s`;
  if (seconds < 2 * 3600) return `${(seconds / 60).toFixed(1)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

function ago(then: Date, now: Date): string {
  const seconds = Math.max(0, (now.getTime() - then.getTime()) / 1000);
  if (seconds < 60) return "under a minute ago";
  if (seconds < 3600) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 48 * 3600) return `${Math.round(seconds / 3600)} h ago`;
  return `${Math.round(seconds / 86_400)} days ago`;
}

/** The last `count` local dates in `timeZone`, oldest first, as YYYY-MM-DD with a short label. */
export function lastNights(now: Date, timeZone: string, count: number) {
  const today = new Intl.DateTimeFormat("en-CA", {
    timeZone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
  })
    .format(now)
    .slice(0, 10);
  const [year, month, day] = today.split("-").map(Number) as [number, number, number];
  const label = new Intl.DateTimeFormat("en-US", { timeZone: "UTC", month: "short", day: "numeric" });
  return Array.from({ length: count }, (_, index) => {
    // Calendar arithmetic on the date itself: a day is not always 24 hours in a zone with DST.
    const date = new Date(Date.UTC(year, month - 1, day - (count - 1 - index)));
    return { key: date.toISOString().slice(0, 10), label: label.format(date) };
  });
}

/** The drift table: repositories × nights, the repositories with the most drift first. */
export function buildDriftTable(runs: DriftNight[], nights: { key: string; label: string }[]) {
  const keys = new Set(nights.map((night) => night.key));
  const byRepo = new Map<number, { fullName: string; nights: Map<string, DriftNight> }>();
  for (const run of runs) {
    if (!keys.has(run.night)) continue;
    const repo = byRepo.get(run.repoId) ?? { fullName: run.fullName, nights: new Map() };
    repo.nights.set(run.night, run);
    byRepo.set(run.repoId, repo);
  }
  const rows = [...byRepo.values()]
    .map((repo) => {
      const total = [...repo.nights.values()].reduce((sum, night) => sum + night.drift, 0);
      return {
        fullName: repo.fullName,
        total,
        totalText: formatCount(total),
        cells: nights.map((night) => {
          const run = repo.nights.get(night.key);
          if (!run) return { text: "–", kind: "none", title: `${night.label}: no sync` };
          return {
            text: formatCount(run.drift),
            kind: run.drift > 0 ? "drift" : "clean",
            title: `${night.label}: ${formatCount(run.drift)} missed ${run.drift === 1 ? "change" : "changes"} repaired${run.runs > 1 ? ` over ${run.runs} syncs` : ""}`,
          };
        }),
      };
    })
    .sort((a, b) => b.total - a.total || a.fullName.localeCompare(b.fullName));
  const hidden = rows.slice(DRIFT_ROWS_SHOWN);
  return {
    nights,
    rows: rows.slice(0, DRIFT_ROWS_SHOWN),
    more:
      hidden.length > 0
        ? `and ${formatCount(hidden.length)} more ${hidden.length === 1 ? "repository" : "repositories"} with ${formatCount(hidden.reduce((sum, row) => sum + row.total, 0))} missed changes in all`
        : null,
  };
}

/** The part of the page htmx refreshes: deliveries, failures, the last delivery, lag and queues. */
export async function buildWebhookHealthLive(db: Db, installation: Installation, now: Date) {
  const since = new Date(now.getTime() - DELIVERY_WINDOW_MS);
  const queueKeys = Object.keys(catalog) as QueueKey[];
  const [counts, failures, last, lag, queues] = await Promise.all([
    countDeliveriesByEvent(db, installation.id, since),
    listDeliveryFailures(db, installation.id, { since, limit: FAILURES_SHOWN }),
    findLastDelivery(db, installation.id),
    measureProcessingLag(db, installation.id, new Date(now.getTime() - LAG_WINDOW_MS)),
    countQueuedJobs(db, installation.id, { queues: queueKeys.map((key) => catalog[key].name), now }),
  ]);

  const events = new Map<string, Map<DeliveryOutcome, number>>();
  for (const row of counts) {
    const byOutcome = events.get(row.event) ?? new Map<DeliveryOutcome, number>();
    byOutcome.set(row.outcome, row.count);
    events.set(row.event, byOutcome);
  }
  const sum = (byOutcome: Map<DeliveryOutcome, number>) => [...byOutcome.values()].reduce((a, b) => a + b, 0);
  const totals = new Map<DeliveryOutcome, number>();
  for (const row of counts) totals.set(row.outcome, (totals.get(row.outcome) ?? 0) + row.count);
  const cell = (outcome: DeliveryOutcome, count: number) => ({
    text: count === 0 ? "–" : formatCount(count),
    kind: count === 0 ? "zero" : outcome,
  });

  return {
    poll: {
      href: `${installationPath(installation.id, "webhooks")}/live`,
      trigger: `every ${POLL_SECONDS}s`,
    },
    updatedAt: timeView(now),
    last: last
      ? {
          at: timeView(last.receivedAt),
          ago: ago(last.receivedAt, now),
          event: eventName(last.event, last.action),
          // In the words of the deliveries table: "waiting", "refused".
          outcome: OUTCOMES.find(({ outcome }) => outcome === last.outcome)!.label.toLowerCase(),
        }
      : null,
    lag: {
      processed: `${formatCount(lag.processed)} ${lag.processed === 1 ? "delivery" : "deliveries"} processed in the last hour`,
      p50: formatLag(lag.p50Seconds),
      p95: formatLag(lag.p95Seconds),
    },
    deliveries: {
      outcomes: OUTCOMES,
      rows: [...events.entries()]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([event, byOutcome]) => ({
          event,
          cells: OUTCOMES.map(({ outcome }) => cell(outcome, byOutcome.get(outcome) ?? 0)),
          total: formatCount(sum(byOutcome)),
        })),
      totals: {
        cells: OUTCOMES.map(({ outcome }) => cell(outcome, totals.get(outcome) ?? 0)),
        total: formatCount(sum(totals)),
      },
    },
    failures: {
      rows: failures.rows.map((failure) => ({
        id: failure.id,
        at: timeView(failure.receivedAt),
        event: eventName(failure.event, failure.action),
        repository: failure.repositoryName,
        outcome: failure.status === "failed" ? "Failed" : "Refused",
        kind: failure.status === "failed" ? "failed" : "refused",
        attempts:
          failure.status === "failed"
            ? `${formatCount(failure.attempts)} ${failure.attempts === 1 ? "attempt" : "attempts"}`
            : null,
        reason: failure.reason ?? "No reason recorded.",
      })),
      summary:
        failures.total > failures.rows.length
          ? `The latest ${formatCount(failures.rows.length)} of ${formatCount(failures.total)}.`
          : null,
    },
    queues: queues.map((depth) => {
      const key = queueKeys.find((candidate) => catalog[candidate].name === depth.queue)!;
      const count = (value: number) => (value === 0 ? "–" : formatCount(value));
      return {
        label: catalog[key].label,
        name: depth.queue,
        mine: {
          waiting: count(depth.mine.waiting),
          later: count(depth.mine.later),
          running: count(depth.mine.running),
        },
        all: { waiting: count(depth.all.waiting), running: count(depth.all.running) },
      };
    }),
  };
}

/** Everything the webhook health page shows: the live part, and the drift of the last nights. */
export async function buildWebhookHealthViewModel(db: Db, installation: Installation, now: Date) {
  // The zone the nightly sync runs in, if the runtime knows it; UTC otherwise.
  const zone = parseInstallationSettings(installation.settings).timezone;
  const timeZone = isTimeZone(zone) ? zone : "UTC";
  const nights = lastNights(now, timeZone, DRIFT_NIGHTS);
  const [live, runs] = await Promise.all([
    buildWebhookHealthLive(db, installation, now),
    // A day more than the nights shown: the oldest night starts at local midnight, not 14 × 24 h ago.
    listDriftByNight(db, installation.id, {
      since: new Date(now.getTime() - (DRIFT_NIGHTS + 1) * DAY_MS),
      timeZone,
    }),
  ]);
  return {
    title: `Webhook health · ${installation.accountLogin}`,
    installation: installationHeader(installation, "webhooks"),
    live,
    drift: { ...buildDriftTable(runs, nights), timeZone },
  };
}
