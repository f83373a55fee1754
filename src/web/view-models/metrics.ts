import { z } from "zod";
import { readStillArriving } from "./still-arriving.js";
import type { Db } from "../../db/client.js";
import {
  findTrackedRepositoryName,
  searchTrackedRepositories,
  summarizeRange,
  type RangeSummary,
  type RepositoryName,
} from "../../db/queries/metrics.js";
import { findInstallationRepositories } from "../../db/queries/repositories.js";
import { listTeams, teamsVersion, type TeamListing } from "../../db/queries/teams.js";
import {
  ALL_REPOSITORIES,
  computeViewFigures,
  listPendingWeeks,
  listWeeklyMetrics,
  type WeekFigures,
} from "../../db/queries/weekly-metrics.js";
import type { Installation, WeeklyMetricsRow } from "../../db/schema/index.js";
import {
  ADDITIVE_FIGURES,
  DURATION_FIGURES,
  HOUR_KINDS,
  PERCENTILE_FIGURES,
  type FigureName,
  type HourKind,
  type PercentileFigure,
} from "../../figures.js";
import { addWeeks, countWeeks, lastDayOfWeek, listWeeks, mondayOf } from "../../metrics/range.js";
import { weekStartOf } from "../../metrics/weeks.js";
import { parseInstallationSettings } from "../../settings.js";
import { formatCount, timeView } from "./format.js";
import { installationHeader, installationPath } from "./installation.js";
import { buildGroupedBarChart, type ChartWeek } from "./metrics-charts.js";
import { buildPhasesView, buildSizeView, readInsight, type Insight } from "./metrics-insight.js";
import { workingHoursDefinition } from "./working-time.js";

/**
 * The metrics page: which weeks, repository and pull requests an admin asked for (validated from
 * the query string, every problem a message beside its field), and everything the page shows of
 * them, prepared so that views/metrics.eta only loops and branches.
 */

export const RANGE_PRESETS = ["4", "12", "26", "52"] as const;
type RangePreset = (typeof RANGE_PRESETS)[number];
/** A quarter: long enough for a trend, short enough to read week by week. */
const DEFAULT_PRESET: RangePreset = "12";
/** Five years of weeks: still a readable table, and a bounded scan for the range medians and the CSV. */
export const MAX_WEEKS = 260;
/** GitHub opened in 2008: nothing to show before. */
const EARLIEST_DATE = "2008-01-01";

/** What the form shows: the values as they were typed, valid or not. */
export interface MetricsForm {
  range: string;
  from: string;
  to: string;
  repo: string;
  /** The repository search box: the name typed, or the chosen repository's full name. */
  repoName: string;
  team: string;
  includeBots: boolean;
  hours: string;
}

export type MetricsField = "range" | "from" | "to" | "repo" | "team" | "bots" | "hours";
export type FieldErrors = Partial<Record<MetricsField, string>>;

/** A valid request: a range of whole weeks, a repository or all, bots in or out. */
export interface MetricsQuery {
  range: RangePreset | "custom";
  /** Week starts (Mondays), both included. */
  from: string;
  to: string;
  repoId: number | undefined;
  /** A team: the pull requests of its members (sub-teams' included); undefined for everyone. */
  teamId: number | undefined;
  includeBots: boolean;
  /** Durations in calendar hours (the default) or in the installation's working hours. */
  hours: HourKind;
}

const MESSAGES: Record<MetricsField, string> = {
  range: "Choose one of the offered ranges.",
  from: "Enter a date as YYYY-MM-DD.",
  to: "Enter a date as YYYY-MM-DD.",
  repo: "Choose a repository from the list.",
  team: "Choose a team from the list.",
  bots: "Tick the box to include bots, or leave it empty.",
  hours: "Choose calendar hours or working hours.",
};

/** Each parameter once, as text (a repeated one arrives as an array and is refused). */
const text = (field: MetricsField) =>
  z.string({ error: MESSAGES[field] }).max(100, MESSAGES[field]).optional();
const rawQuerySchema = z.object({
  range: text("range").pipe(z.enum(["", ...RANGE_PRESETS, "custom"], MESSAGES.range).optional()),
  from: text("from"),
  to: text("to"),
  repo: text("repo").pipe(z.union([z.enum(["", "all"]), z.string().regex(/^\d{1,15}$/)]).optional()),
  repoName: text("repo"),
  team: text("team").pipe(z.union([z.enum(["", "all"]), z.string().regex(/^\d{1,15}$/)]).optional()),
  bots: text("bots").pipe(z.enum(["", "include"], MESSAGES.bots).optional()),
  hours: text("hours").pipe(z.enum(["", ...HOUR_KINDS], MESSAGES.hours).optional()),
});

/** The typed values to show again, whatever they were. */
function formOf(raw: unknown): MetricsForm {
  const value = (key: string) => {
    const item = raw && typeof raw === "object" ? (raw as Record<string, unknown>)[key] : undefined;
    return typeof item === "string" ? item.slice(0, 100) : "";
  };
  const from = value("from").trim();
  const to = value("to").trim();
  return {
    range: value("range") || (from || to ? "custom" : DEFAULT_PRESET),
    from,
    to,
    repo: value("repo") || "all",
    repoName: value("repoName").trim(),
    team: value("team") || "all",
    includeBots: value("bots") === "include",
    hours: value("hours") || "calendar",
  };
}

/**
 * Reads the metrics query string. `thisWeek` is the current week's Monday on the installation's
 * calendar: presets end there, and a custom range may not end later. A range given by dates alone
 * (no `range`) is a custom one; dates beside a preset are kept in the form but not used.
 */
export function parseMetricsQuery(
  raw: unknown,
  thisWeek: string,
): { form: MetricsForm; errors: FieldErrors; query: MetricsQuery | null; repoSearch: string | null } {
  const form = formOf(raw);
  const repoSearch = repoSearchOf(raw, form);
  const errors: FieldErrors = {};
  const parsed = rawQuerySchema.safeParse(raw ?? {});
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const field = issue.path[0] as MetricsField;
      errors[field] ??= MESSAGES[field];
    }
  }
  const range = form.range as MetricsQuery["range"];
  let from = thisWeek;
  let to = thisWeek;
  if (!errors.range && range !== "custom") from = addWeeks(thisWeek, -(Number(range) - 1));
  if (!errors.range && range === "custom" && !errors.from && !errors.to) {
    const first = form.from ? mondayOf(form.from) : null;
    const last = form.to ? mondayOf(form.to) : null;
    if (!form.from) errors.from = "Enter the first day of the range.";
    else if (!first) errors.from = MESSAGES.from;
    else if (form.from < EARLIEST_DATE) errors.from = "Choose a date from 2008 on.";
    if (!form.to) errors.to = "Enter the last day of the range.";
    else if (!last) errors.to = MESSAGES.to;
    else if (last > thisWeek) errors.to = "The range cannot end after this week.";
    if (first && last && !errors.from && !errors.to) {
      if (last < first) errors.to = "The range must end on or after the day it starts.";
      else if (countWeeks(first, last) > MAX_WEEKS)
        errors.from = `Choose at most ${MAX_WEEKS} weeks (five years).`;
    }
    from = first ?? from;
    to = last ?? to;
  }
  if (Object.keys(errors).length > 0) return { form, errors, query: null, repoSearch };
  return {
    form,
    errors,
    repoSearch,
    query: {
      range,
      from,
      to,
      repoId: repoSearch !== null || form.repo === "all" || form.repo === "" ? undefined : Number(form.repo),
      teamId: form.team === "all" || form.team === "" ? undefined : Number(form.team),
      includeBots: form.includeBots,
      hours: form.hours as HourKind,
    },
  };
}

/**
 * The repository search of a query: null when it has none (a link, which names the repository by
 * its id), else the text the form's search box sent, which decides over any id ("" for all).
 */
function repoSearchOf(raw: unknown, form: MetricsForm): string | null {
  const sent = raw && typeof raw === "object" && "repoName" in raw;
  return sent ? form.repoName : null;
}

/** The query string of a metrics view (the page, or its CSV with suffix ".csv"). */
export function metricsHref(installationId: number, query: MetricsQuery, suffix = ""): string {
  return `${installationPath(installationId, "metrics")}${suffix}?${metricsParams(query).toString()}`;
}

/** A view's parameters, as the metrics form sends them: what links between views carry along. */
export function metricsParams(query: MetricsQuery): URLSearchParams {
  const params = new URLSearchParams();
  params.set("range", query.range);
  if (query.range === "custom") {
    params.set("from", query.from);
    params.set("to", query.to);
  }
  if (query.repoId !== undefined) params.set("repo", String(query.repoId));
  if (query.teamId !== undefined) params.set("team", String(query.teamId));
  if (query.includeBots) params.set("bots", "include");
  if (query.hours === "working") params.set("hours", "working");
  return params;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** "Jan 8" and "Jan 8, 2024" for a day (YYYY-MM-DD), the same on every server. */
export function formatWeek(weekStart: string): ChartWeek {
  const [year, month, day] = weekStart.split("-").map(Number) as [number, number, number];
  const short = `${MONTHS[month - 1]} ${day}`;
  return { short, long: `${short}, ${year}` };
}

const trimmed = (value: number) => String(Number(value.toFixed(1)));

/** Hours as a person reads them: "45 min", "7 h", "1.5 d", "12 d"; "–" when there is nothing. */
export function formatHours(hours: number | null): string {
  if (hours === null) return "–";
  const minutes = Math.round(hours * 60);
  if (minutes < 60) return `${minutes} min`;
  if (hours < 24) return `${hours < 10 ? trimmed(hours) : Math.round(hours)} h`;
  const days = hours / 24;
  return `${days < 10 ? trimmed(days) : Math.round(days)} d`;
}

/**
 * Working hours as a person reads them: "45 min", "7.5 h", "63 h". Never in days: a day of 24
 * working hours does not exist, and one of 8 or 9 would be a second definition.
 */
export function formatWorkingHours(hours: number | null): string {
  if (hours === null) return "–";
  if (Math.round(hours * 60) < 60) return formatHours(hours);
  return `${hours < 10 ? trimmed(hours) : Math.round(hours)} h`;
}

/** How a kind of hours is written: in the cells, and in their exact tooltip. */
const HOUR_FORMATS: Record<HourKind, { short: (hours: number | null) => string; unit: string }> = {
  calendar: { short: formatHours, unit: "hours" },
  working: { short: formatWorkingHours, unit: "working hours" },
};

/** A table cell: its column, its text, and for durations the exact hours (tooltip, and the tests). */
export interface Cell {
  metric: string;
  text: string;
  exact: string | null;
}

export function hoursCell(metric: string, hours: number | null, kind: HourKind = "calendar"): Cell {
  const format = HOUR_FORMATS[kind];
  return {
    metric,
    text: format.short(hours),
    exact: hours === null ? null : `${hours.toFixed(2)} ${format.unit}`,
  };
}

export function countCell(metric: string, value: number): Cell {
  return { metric, text: formatCount(value), exact: null };
}

/** A week's figures, or a range's (src/figures.ts). */
type Figures = Pick<WeeklyMetricsRow, FigureName>;

/** A week without a stored row had no activity: zero pull requests, no percentiles. */
const IDLE_WEEK = {
  ...Object.fromEntries(ADDITIVE_FIGURES.map((name) => [name, 0])),
  ...Object.fromEntries(PERCENTILE_FIGURES.map((name) => [name, null])),
} as Figures;

/** The table's columns after the week: the pattern reverts only where a pattern was set. */
function columnsOf(showPatternReverts: boolean) {
  return [
    { metric: "opened", label: "Opened" },
    { metric: "merged", label: "Merged" },
    { metric: "cycle", label: "Cycle time" },
    { metric: "cycle-p75", label: "Cycle time p75" },
    { metric: "review-time", label: "Time to first review" },
    { metric: "coding", label: "Coding" },
    { metric: "pickup", label: "Pickup" },
    { metric: "review", label: "Review" },
    { metric: "reverts", label: "Reverts" },
    ...(showPatternReverts ? [{ metric: "reverts-with-pattern", label: "Reverts incl. your pattern" }] : []),
    { metric: "hotfixes", label: "Hotfixes" },
    { metric: "size", label: "Size" },
  ];
}

function cellsOf(figures: Figures, showPatternReverts: boolean, kind: HourKind): Cell[] {
  const duration = DURATION_FIGURES[kind];
  return [
    countCell("opened", figures.prsOpened),
    countCell("merged", figures.prsMerged),
    hoursCell("cycle", figures[duration.cycle], kind),
    hoursCell("cycle-p75", figures[duration.cycleP75], kind),
    hoursCell("review-time", figures[duration.reviewTime], kind),
    hoursCell("coding", figures[duration.coding], kind),
    hoursCell("pickup", figures[duration.pickup], kind),
    hoursCell("review", figures[duration.review], kind),
    countCell("reverts", figures.reverts),
    ...(showPatternReverts ? [countCell("reverts-with-pattern", figures.revertsWithPattern)] : []),
    countCell("hotfixes", figures.hotfixes),
    {
      metric: "size",
      text: figures.medianSizeLines === null ? "–" : `${formatCount(figures.medianSizeLines)} lines`,
      exact: null,
    },
  ];
}

const pickPercentiles = (figures: Figures) =>
  Object.fromEntries(PERCENTILE_FIGURES.map((name) => [name, figures[name]])) as RangeSummary;

/** The range percentiles a page shows: its kind of durations, and the size. */
function shownPercentiles(kind: HourKind): PercentileFigure[] {
  return [...Object.values(DURATION_FIGURES[kind]), "medianSizeLines"];
}

/** The range's row: counts and sums added up over the weeks, percentiles over the range's pull requests. */
function totalsOf(weeks: readonly Figures[], summary: RangeSummary): Figures {
  const totals = { ...IDLE_WEEK, ...summary };
  for (const name of ADDITIVE_FIGURES) totals[name] = weeks.reduce((total, week) => total + week[name], 0);
  return totals;
}

/**
 * What a view computes from the pull requests when it is read: the range's medians, and for a
 * view no weekly row is stored for (a team) its weeks too.
 */
export interface RangeFigures {
  summary: RangeSummary;
  /** Null: the weeks are the stored weekly rows. */
  weeks: WeekFigures[] | null;
}

/**
 * Figures already computed, by what they were computed from. A range's pull requests change
 * only with a change that marks their weeks pending, in the same transaction, until the refresh
 * rewrites the weeks' rows (a newer refreshed_at, or fewer rows): so medians computed while none of
 * the range's weeks was pending hold for as long as its rows' count and latest refresh stay the
 * same (and, cut by team, the teams too). With a week pending, nothing is kept. A dashboard
 * reloaded all day then scans its range's pull requests once per refresh instead of once per view.
 */
export interface SummaryCache<T = RangeFigures> {
  get(key: string): T | undefined;
  set(key: string, figures: T): void;
}

/** The most recently used `limit` summaries of this process (each a few hundred bytes). */
export function createSummaryCache<T = RangeFigures>(limit = 1000): SummaryCache<T> {
  const entries = new Map<string, T>();
  return {
    get(key) {
      const summary = entries.get(key);
      if (summary) {
        entries.delete(key);
        entries.set(key, summary);
      }
      return summary;
    },
    set(key, summary) {
      entries.delete(key);
      entries.set(key, summary);
      if (entries.size > limit) entries.delete(entries.keys().next().value!);
    },
  };
}

/** The current week on the installation's calendar. */
function currentWeek(installation: Installation, now: Date): string {
  return weekStartOf(now, parseInstallationSettings(installation.settings).timezone);
}

/** Repositories a search offers: enough to find one by a few more letters, few enough to read. */
export const REPOSITORY_CHOICES = 20;

/**
 * The query string read and checked against the installation's repositories and teams: an id of
 * another installation's, or one that does not exist, is refused like garbage, with nothing said
 * about whose it is. A repository searched by name is the one named exactly, or the only one whose
 * name contains the text; when several do, they are offered as choices beside the field, each
 * with the rest of the query.
 */
export async function resolveMetricsQuery(db: Db, installation: Installation, raw: unknown, now: Date) {
  const parsed = parseMetricsQuery(raw, currentWeek(installation, now));
  const asked = parsed.query;
  const teams = await listTeams(db, installation.id);
  const { repository, choices } = asked
    ? await resolveRepository(db, installation, parsed)
    : { repository: undefined, choices: [] };
  if (repository && asked) {
    asked.repoId = repository.id;
    parsed.form.repoName = repository.fullName;
  }
  // A refused query keeps showing the repository it named by id, as it keeps every typed value.
  if (!asked && parsed.repoSearch === null && /^\d{1,15}$/.test(parsed.form.repo)) {
    const named = await findTrackedRepositoryName(db, installation.id, Number(parsed.form.repo));
    if (named) parsed.form.repoName = named.fullName;
  }
  const teamId = asked?.teamId;
  if (asked && teamId !== undefined && !teams.some((team) => team.id === teamId)) {
    parsed.errors.team = `${installation.accountLogin} has no team with the id ${teamId}.`;
  }
  const repoChoices = asked ? choices.map((repo) => ({ ...repo, query: { ...asked, repoId: repo.id } })) : [];
  const base = { ...parsed, repository, repoChoices, teams };
  if (Object.keys(parsed.errors).length > 0) return { ...base, query: null };
  return base;
}

/** The repository a parsed query names, by id or by search; a message beside the field if none. */
async function resolveRepository(
  db: Db,
  installation: Installation,
  parsed: ReturnType<typeof parseMetricsQuery>,
): Promise<{ repository: RepositoryName | undefined; choices: RepositoryName[] }> {
  const none = { repository: undefined, choices: [] };
  const search = parsed.repoSearch;
  if (search) {
    const found = await searchTrackedRepositories(db, installation.id, search, REPOSITORY_CHOICES + 1);
    const exact = found[0]?.fullName.toLowerCase() === search.toLowerCase();
    if (exact || found.length === 1) return { repository: found[0], choices: [] };
    parsed.errors.repo =
      found.length === 0
        ? `No tracked repository of ${installation.accountLogin} has “${search}” in its name.`
        : `${found.length > REPOSITORY_CHOICES ? `More than ${REPOSITORY_CHOICES}` : found.length} tracked repositories have “${search}” in their name: choose one.`;
    return { repository: undefined, choices: found.slice(0, REPOSITORY_CHOICES) };
  }
  const repoId = parsed.query?.repoId;
  if (repoId === undefined) return none;
  const repository = await findTrackedRepositoryName(db, installation.id, repoId);
  if (repository) return { repository, choices: [] };
  const [own] = await findInstallationRepositories(db, installation.id, [repoId]);
  parsed.errors.repo = own
    ? `${own.fullName} is not tracked, so it has no metrics. Track it on the Repositories page first.`
    : `${installation.accountLogin} has no tracked repository with the id ${repoId}.`;
  return none;
}

export type ResolvedMetricsQuery = Awaited<ReturnType<typeof resolveMetricsQuery>>;

/** A team as an option of a list: its place under its parents shown by indentation. */
export function teamOptions(teams: readonly TeamListing[], selected: string) {
  return teams.map((team) => ({
    value: String(team.id),
    // No-break spaces: a select keeps them, and they say nothing to a screen reader.
    label: `${"\u00a0\u00a0".repeat(team.depth)}${team.name}`,
    selected: String(team.id) === selected,
  }));
}

/** The form of a metrics view; other pages with the same filters post it to their own path. */
export function formView(
  installation: Installation,
  resolved: ResolvedMetricsQuery,
  action = installationPath(installation.id, "metrics"),
) {
  const { form, errors, teams } = resolved;
  return {
    action,
    values: form,
    errors,
    invalid: Object.keys(errors).length > 0,
    ranges: [
      ...RANGE_PRESETS.map((value) => ({ value, label: `Last ${value} weeks` })),
      { value: "custom", label: "Custom range" },
    ].map((option) => ({ ...option, selected: option.value === form.range })),
    repository: {
      value: form.repoName,
      searchHref: `${installationPath(installation.id, "metrics")}/repositories`,
      // What a search without JavaScript found: each a link to the view with that repository.
      choices: resolved.repoChoices.map((repo) => ({
        fullName: repo.fullName,
        href: `${action}?${metricsParams(repo.query).toString()}`,
      })),
    },
    // Only an organization with teams on GitHub has the choice.
    teams:
      teams.length === 0
        ? null
        : [
            { value: "all", label: "Everyone", selected: form.team === "all" },
            ...teamOptions(teams, form.team),
          ],
  };
}

/** The page when the query was refused: the form as typed, with a message beside each bad field. */
export function buildInvalidMetricsViewModel(installation: Installation, resolved: ResolvedMetricsQuery) {
  return {
    title: `Metrics · ${installation.accountLogin}`,
    installation: installationHeader(installation, "metrics"),
    form: formView(installation, resolved),
    report: null,
  };
}

/** What a view of the metrics counts: its weeks, and which pull requests. */
export interface MetricsView {
  from: string;
  to: string;
  timeZone: string;
  repoId: number | undefined;
  teamId: number | undefined;
  humansOnly: boolean;
}

/**
 * A view's figures week by week (a week without activity as zeros) and over its whole range. The
 * installation's and a repository's weeks are the stored weekly rows; a team's are computed from
 * its members' pull requests by the same definitions (weekly-metrics.ts computeViewFigures),
 * since membership changes at any time and no row could stay right. What is computed when read
 * is kept (SummaryCache) for as long as its inputs stay the same.
 */
export async function readViewFigures(
  db: Db,
  installationId: number,
  view: MetricsView,
  now: Date,
  cache: SummaryCache,
  percentiles: readonly PercentileFigure[] = PERCENTILE_FIGURES,
) {
  const weeks = listWeeks(view.from, view.to);
  const byTeam = view.teamId !== undefined;
  const [rows, pending, teams] = await Promise.all([
    listWeeklyMetrics(db, installationId, {
      repoId: view.repoId ?? ALL_REPOSITORIES,
      weeks: weeks.length,
      until: view.to,
      humansOnly: view.humansOnly,
    }),
    listPendingWeeks(db, installationId),
    byTeam ? teamsVersion(db, installationId) : "",
  ]);
  const refreshedAt = rows.reduce<Date | null>(
    (latest, row) => (!latest || row.refreshedAt > latest ? row.refreshedAt : latest),
    null,
  );
  const pendingWeeks = pending.filter((week) => week.weekStart >= view.from && week.weekStart <= view.to);
  // The stored rows change whenever the view's pull requests do (see SummaryCache), a team's too.
  const key =
    pendingWeeks.length === 0
      ? [
          installationId,
          JSON.stringify(view),
          percentiles.join(","),
          rows.length,
          refreshedAt?.getTime() ?? 0,
          teams,
        ].join("|")
      : null;
  let computed = key ? cache.get(key) : undefined;
  if (!computed) {
    if (byTeam) {
      const team = await computeViewFigures(db, { installationId, ...view }, view, weeks);
      computed = { summary: pickPercentiles(team.range), weeks: team.weeks };
    } else {
      computed = { summary: await summarizeRange(db, installationId, view, percentiles), weeks: null };
    }
    if (key) cache.set(key, computed);
  }
  const byWeek = new Map<string, Figures>((computed.weeks ?? rows).map((row) => [row.weekStart, row]));
  const figures = weeks.map((week) => byWeek.get(week) ?? IDLE_WEEK);
  return {
    figures,
    totals: totalsOf(figures, computed.summary),
    // A team's figures are computed from the pull requests as they are when read.
    dataAsOf: byTeam ? (byWeek.size > 0 ? now : null) : refreshedAt,
    pendingWeeks: byTeam ? 0 : pendingWeeks.length,
    /** Weeks of the range whose pull requests changed since their rows were computed, team or not. */
    changingWeeks: pendingWeeks.length,
    /** What the view's figures were cached by: whatever else is computed of it may be kept by it too. */
    key,
  };
}

/** The caches of the metrics page: the view's figures, and its size and phase insight. */
export interface MetricsCaches {
  figures: SummaryCache;
  insight: SummaryCache<Insight>;
}

export function createMetricsCaches(): MetricsCaches {
  return { figures: createSummaryCache(), insight: createSummaryCache<Insight>() };
}

/**
 * Whether the page should refresh itself: a backfill of the installation is under way, or weeks
 * of the range are being recomputed. The answer without it stops the polling.
 */
function liveHref(installationId: number, query: MetricsQuery, syncing: boolean): string | null {
  return syncing ? metricsHref(installationId, query, "/live") : null;
}

/** Everything the metrics page shows for a valid query. */
export async function buildMetricsViewModel(
  db: Db,
  installation: Installation,
  resolved: ResolvedMetricsQuery & { query: MetricsQuery },
  now: Date,
  caches: MetricsCaches,
) {
  const { query } = resolved;
  const settings = parseInstallationSettings(installation.settings);
  const thisWeek = weekStartOf(now, settings.timezone);
  const weeks = listWeeks(query.from, query.to);
  const view: MetricsView = {
    from: query.from,
    to: query.to,
    timeZone: settings.timezone,
    repoId: query.repoId,
    teamId: query.teamId,
    humansOnly: !query.includeBots,
  };
  const { figures, totals, dataAsOf, pendingWeeks, changingWeeks, key } = await readViewFigures(
    db,
    installation.id,
    view,
    now,
    caches.figures,
    shownPercentiles(query.hours),
  );
  const [insight, stillArriving] = await Promise.all([
    readInsight(db, installation.id, { ...view, hours: query.hours }, key, caches.insight),
    readStillArriving(db, installation.id),
  ]);
  const live = liveHref(installation.id, query, changingWeeks > 0 || stillArriving.unfinished);
  const kind = query.hours;
  const duration = DURATION_FIGURES[kind];
  const format = HOUR_FORMATS[kind].short;
  const labels = weeks.map(formatWeek);
  const repository = resolved.repository;
  const team = resolved.teams.find((candidate) => candidate.id === query.teamId);
  const scope = [
    repository ? repository.fullName : "all tracked repositories",
    ...(team ? [`team ${team.name}`] : []),
  ].join(", ");
  const who = query.includeBots ? "every pull request" : "pull requests opened by people (bots left out)";
  const rangeText = `${labels[0]!.long} – ${formatWeek(lastDayOfWeek(query.to)).long}`;
  const showPatternReverts = settings.revertTitlePattern !== "";
  const unit = kind === "working" ? " (working hours)" : "";
  const hoursFormat = {
    short: format,
    exact: (hours: number) => `${hours.toFixed(2)} ${HOUR_FORMATS[kind].unit}`,
  };
  const phases = buildPhasesView(weeks, labels, insight.phases, hoursFormat, unit, rangeText);

  return {
    title: `Metrics · ${installation.accountLogin}`,
    installation: installationHeader(installation, "metrics"),
    form: formView(installation, resolved),
    report: {
      scope,
      rangeText,
      who,
      weekCount: weeks.length,
      csvHref: metricsHref(installation.id, query, ".csv"),
      dataAsOf: timeView(dataAsOf),
      live,
      phases: phases.range,
      size: buildSizeView(insight.sizes, hoursFormat, unit),
      stillArriving: stillArriving.text,
      pending:
        pendingWeeks === 0
          ? null
          : `${pendingWeeks === 1 ? "One week" : `${formatCount(pendingWeeks)} weeks`} of this range ${pendingWeeks === 1 ? "is" : "are"} being recomputed after recent changes; ${pendingWeeks === 1 ? "its" : "their"} figures may change in a minute.`,
      team: team
        ? { name: team.name, href: `${installationPath(installation.id, "teams")}/${team.id}` }
        : null,
      hours: {
        kind,
        definition: workingHoursDefinition(settings),
        toggle: HOUR_KINDS.map((option) => ({
          kind: option,
          label: option === "calendar" ? "Calendar hours" : "Working hours",
          href: metricsHref(installation.id, { ...query, hours: option }),
          current: option === kind,
        })),
      },
      headline: {
        merged: formatCount(totals.prsMerged),
        opened: formatCount(totals.prsOpened),
        medianCycle: format(totals[duration.cycle]),
        medianReview: format(totals[duration.reviewTime]),
        unit,
      },
      columns: columnsOf(showPatternReverts),
      weeks: weeks.map((week, index) => ({
        iso: week,
        label: labels[index]!.long,
        current: week === thisWeek,
        cells: cellsOf(figures[index]!, showPatternReverts, kind),
      })),
      totals: {
        label: `${formatCount(weeks.length)} ${weeks.length === 1 ? "week" : "weeks"}`,
        cells: cellsOf(totals, showPatternReverts, kind),
      },
      charts: [
        buildGroupedBarChart({
          id: "chart-throughput",
          title: "Pull requests opened and merged per week",
          description: `Bars per week, ${rangeText}; the table below has the same numbers.`,
          weeks: labels,
          series: [
            { label: "Opened", className: "series-opened", values: figures.map((f) => f.prsOpened) },
            { label: "Merged", className: "series-merged", values: figures.map((f) => f.prsMerged) },
          ],
          tooltip: (index) =>
            `Week of ${labels[index]!.long}: ${formatCount(figures[index]!.prsOpened)} opened, ${formatCount(figures[index]!.prsMerged)} merged`,
        }),
        phases.chart,
      ],
    },
  };
}
