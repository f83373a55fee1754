import type { Db } from "../../db/client.js";
import {
  hasTrackedRepositories,
  listRepositoriesPage,
  type RepositoryFilter,
} from "../../db/queries/repositories.js";
import type { Installation, Repository } from "../../db/schema/index.js";
import { computeProgress } from "../../metrics/progress.js";
import { parseInstallationSettings, type SyncDepth } from "../../settings.js";
import type { BackfillEstimate, RepositoryEstimate } from "../../sync/estimate.js";
import { SYNC_NOW_COOLDOWN_SECONDS } from "../../sync/sync-now.js";
import {
  failureAdvice,
  formatCount,
  formatDuration,
  formatEta,
  progressText,
  statusLabel,
  timeView,
} from "./format.js";
import {
  depthLabels,
  depthOptions,
  installationHeader,
  installationPath,
  installationSettingsUrl,
} from "./installation.js";

export const PAGE_SIZE = 50;

export interface RepositoriesQuery {
  search: string;
  filter: RepositoryFilter;
  page: number;
}

const FILTERS: { value: RepositoryFilter; label: string }[] = [
  { value: "all", label: "All" },
  { value: "tracked", label: "Tracked" },
  { value: "untracked", label: "Not tracked" },
];

export function repositoriesHref(installationId: number, query: RepositoriesQuery, suffix = ""): string {
  const params = new URLSearchParams();
  if (query.search) params.set("q", query.search);
  if (query.filter !== "all") params.set("filter", query.filter);
  if (query.page > 1) params.set("page", String(query.page));
  const search = params.toString();
  return `${installationPath(installationId, "repositories")}${suffix}${search ? `?${search}` : ""}`;
}

function rowView(repo: Repository, installationId: number, defaultDepth: SyncDepth, now: Date) {
  const progress = computeProgress(repo, now);
  const depth = repo.syncDepth ?? defaultDepth;
  const cooldownLeft = repo.manualSyncRequestedAt
    ? SYNC_NOW_COOLDOWN_SECONDS - (now.getTime() - repo.manualSyncRequestedAt.getTime()) / 1000
    : 0;
  const running = repo.syncStatus === "queued" || repo.syncStatus === "syncing";
  return {
    id: repo.id,
    fullName: repo.fullName,
    archived: repo.archived,
    private: repo.private,
    tracked: repo.tracked,
    depth,
    depthLabel: depthLabels[depth],
    depthIsDefault: repo.syncDepth === null,
    status: repo.tracked ? repo.syncStatus : "untracked",
    statusLabel: repo.tracked ? statusLabel(repo.syncStatus) : "Not tracked",
    running: repo.tracked && (running || repo.syncStatus === "paused_rate_limited"),
    progress:
      repo.tracked && repo.syncStatus !== "pending"
        ? {
            percent: progress.percent,
            text: progressText(progress),
            eta: formatEta(progress.etaSeconds),
          }
        : null,
    pausedUntil:
      repo.tracked && repo.syncStatus === "paused_rate_limited" ? timeView(repo.pausedUntil) : null,
    lastSynced: timeView(repo.lastSuccessfulSyncAt),
    error:
      repo.tracked && repo.syncStatus === "error"
        ? { detail: repo.lastError ?? "", advice: failureAdvice(repo.lastErrorCode) }
        : null,
    syncNow: !repo.tracked
      ? null
      : cooldownLeft > 0
        ? { available: false, text: `Requested; again in ${formatDuration(cooldownLeft)}` }
        : running
          ? { available: false, text: "Syncing now" }
          : { available: true, text: "Sync now" },
    links: {
      sync: `${installationPath(installationId, "repositories")}/${repo.id}/sync`,
      depth: `${installationPath(installationId, "repositories")}/${repo.id}/depth`,
    },
  };
}

/** The repositories table of one page: its rows, and whether a poll should refresh them. */
export async function buildRepositoryRows(
  db: Db,
  installation: Installation,
  query: RepositoriesQuery,
  now: Date,
) {
  const { rows, total } = await listRepositoriesPage(db, installation.id, {
    search: query.search,
    filter: query.filter,
    offset: (query.page - 1) * PAGE_SIZE,
    limit: PAGE_SIZE,
  });
  const { defaultSyncDepth } = parseInstallationSettings(installation.settings);
  const views = rows.map((repo) => rowView(repo, installation.id, defaultSyncDepth, now));
  return {
    rows: views,
    total,
    // Poll only while something runs: the answer without it stops the polling.
    poll: views.some((row) => row.running) ? repositoriesHref(installation.id, query, "/rows") : null,
  };
}

/** The repositories a track or untrack form selected, as its confirmation page names them. */
export function selectionView(repos: readonly Pick<Repository, "id" | "fullName">[]) {
  return {
    repositories: repos.map((repo) => ({ id: repo.id, fullName: repo.fullName })),
    subject: repos.length === 1 ? repos[0]!.fullName : `${repos.length} repositories`,
    pronoun: repos.length === 1 ? "it" : "them",
  };
}

/** A confirmation page's backfill estimate, or why there is none (null: GitHub did not answer). */
export function estimateView(estimate: BackfillEstimate | null) {
  if (!estimate) {
    return {
      available: false,
      reason: "GitHub did not answer the estimate just now; the sync can start anyway.",
    };
  }
  const unknown = estimate.repositories.filter((row) => row.count === "unknown").length;
  const exact = estimate.repositories.every((row) => row.count === "exact");
  return {
    available: true,
    rows: estimate.repositories.map((row) => ({ fullName: row.fullName, prs: estimatedCount(row) })),
    prs: `${exact ? "" : "about "}${formatCount(estimate.prs)}`,
    unknown: unknown === 0 ? null : unansweredText(unknown),
    points: formatCount(estimate.points),
    time: estimate.prs === 0 ? "no time" : formatDuration(estimate.seconds),
    budget: estimate.budget
      ? {
          remaining: formatCount(estimate.budget.remaining),
          limit: formatCount(estimate.budget.limit),
          resetAt: timeView(estimate.budget.resetAt),
        }
      : null,
    fitsBudget: estimate.fitsBudget,
  };
}

/** A repository's count as the estimate shows it: "about" when extrapolated. */
function estimatedCount(row: RepositoryEstimate): string {
  if (row.count === "unknown") return "not answered";
  return `${row.count === "estimated" ? "about " : ""}${formatCount(row.prs)}`;
}

function unansweredText(repositories: number): string {
  return repositories === 1
    ? "GitHub did not answer for 1 repository; its pull requests are not counted."
    : `GitHub did not answer for ${formatCount(repositories)} repositories; their pull requests are not counted.`;
}

/** Everything the repositories page shows, so the template only loops and branches. */
export async function buildRepositoriesViewModel(
  db: Db,
  installation: Installation,
  query: RepositoriesQuery,
  githubWebUrl: string,
  now: Date,
) {
  const [table, tracksAny] = await Promise.all([
    buildRepositoryRows(db, installation, query, now),
    hasTrackedRepositories(db, installation.id),
  ]);
  const pages = Math.max(1, Math.ceil(table.total / PAGE_SIZE));
  const base = installationPath(installation.id, "repositories");
  return {
    title: `Repositories · ${installation.accountLogin}`,
    installation: installationHeader(installation, "repositories"),
    query,
    filters: FILTERS.map((filter) => ({
      ...filter,
      selected: filter.value === query.filter,
      href: repositoriesHref(installation.id, { ...query, filter: filter.value, page: 1 }),
    })),
    table,
    // Before anything is tracked the page says how to start (there is nothing to watch yet).
    firstSteps:
      !tracksAny && table.total > 0 ? { settings: installationPath(installation.id, "settings") } : null,
    totalText: `${formatCount(table.total)} ${table.total === 1 ? "repository" : "repositories"}`,
    pagination: {
      page: query.page,
      pages,
      previous: query.page > 1 ? repositoriesHref(installation.id, { ...query, page: query.page - 1 }) : null,
      next: query.page < pages ? repositoriesHref(installation.id, { ...query, page: query.page + 1 }) : null,
    },
    depthOptions,
    grantMoreUrl:
      installation.repositorySelection === "selected"
        ? installationSettingsUrl(githubWebUrl, installation)
        : null,
    actions: {
      search: base,
      track: `${base}/track`,
      untrack: `${base}/untrack`,
      returnTo: repositoriesHref(installation.id, query),
    },
  };
}
