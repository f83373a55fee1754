import { z } from "zod";
import type { Db } from "../../db/client.js";
import { listTrackedRepositoryNames, summarizeRange, type RangeSummary } from "../../db/queries/metrics.js";
import { findInstallationRepositories } from "../../db/queries/repositories.js";
import { ALL_REPOSITORIES, listPendingWeeks, listWeeklyMetrics } from "../../db/queries/weekly-metrics.js";
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
import { buildGroupedBarChart, buildStackedHoursChart, type ChartWeek } from "./metrics-charts.js";
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
  includeBots: boolean;
  hours: string;
}

export type MetricsField = "range" | "from" | "to" | "repo" | "bots" | "hours";
export type FieldErrors = Partial<Record<MetricsField, string>>;

/** A valid request: a range of whole weeks, a repository or all, bots in or out. */
export interface MetricsQuery {
  range: RangePreset | "custom";
  /** Week starts (Mondays), both included. */
  from: string;
  to: string;
  repoId: number | undefined;
  includeBots: boolean;
  /** Durations in calendar hours (the default) or in the installation's working hours. */
  hours: HourKind;
}

const MESSAGES: Record<MetricsField, string> = {
  range: "Choose one of the offered ranges.",
  from: "Enter a date as YYYY-MM-DD.",
  to: "Enter a date as YYYY-MM-DD.",
  repo: "Choose a repository from the list.",
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
): { form: MetricsForm; errors: FieldErrors; query: MetricsQuery | null } {
  const form = formOf(raw);
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
  if (Object.keys(errors).length > 0) return { form, errors, query: null };
  return {
    form,
    errors,
    query: {
      range,
      from,
      to,
      repoId: form.repo === "all" || form.repo === "" ? undefined : Number(form.repo),
      includeBots: form.includeBots,
      hours: form.hours as HourKind,
    },
  };
}

/** The query string of a metrics view (the page, or its CSV with suffix ".csv"). */
export function metricsHref(installationId: number, query: MetricsQuery, suffix = ""): string {
  const params = new URLSearchParams();
  params.set("range", query.range);
  if (query.range === "custom") {
    params.set("from", query.from);
    params.set("to", query.to);
  }
  if (query.repoId !== undefined) params.set("repo", String(query.repoId));
  if (query.includeBots) params.set("bots", "include");
  if (query.hours === "working") params.set("hours", "working");
  return `${installationPath(installationId, "metrics")}${suffix}?${params.toString()}`;
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

function hoursCell(metric: string, hours: number | null, kind: HourKind): Cell {
  const format = HOUR_FORMATS[kind];
  return {
    metric,
    text: format.short(hours),
    exact: hours === null ? null : `${hours.toFixed(2)} ${format.unit}`,
  };
}

function countCell(metric: string, value: number): Cell {
  return { metric, text: formatCount(value), exact: null };
}

/** A week's figures, or a range's (src/figures.ts). */
type WeekFigures = Pick<WeeklyMetricsRow, FigureName>;

/** A week without a stored row had no activity: zero pull requests, no percentiles. */
const IDLE_WEEK = {
  ...Object.fromEntries(ADDITIVE_FIGURES.map((name) => [name, 0])),
  ...Object.fromEntries(PERCENTILE_FIGURES.map((name) => [name, null])),
} as WeekFigures;

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

function cellsOf(figures: WeekFigures, showPatternReverts: boolean, kind: HourKind): Cell[] {
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

/** The range percentiles a page shows: its kind of durations, and the size. */
function shownPercentiles(kind: HourKind): PercentileFigure[] {
  return [...Object.values(DURATION_FIGURES[kind]), "medianSizeLines"];
}

/** The range's row: counts and sums added up over the weeks, percentiles over the range's pull requests. */
function totalsOf(weeks: readonly WeekFigures[], summary: RangeSummary): WeekFigures {
  const totals = { ...IDLE_WEEK, ...summary };
  for (const name of ADDITIVE_FIGURES) totals[name] = weeks.reduce((total, week) => total + week[name], 0);
  return totals;
}

/**
 * Range medians already computed, by what they were computed from. A range's pull requests change
 * only with a change that marks their weeks pending, in the same transaction, until the refresh
 * rewrites the weeks' rows (a newer refreshed_at, or fewer rows): so medians computed while none of
 * the range's weeks was pending hold for as long as its rows' count and latest refresh stay the
 * same. With a week pending, nothing is kept. A dashboard reloaded all day then scans its range's
 * pull requests once per refresh instead of once per view.
 */
export interface SummaryCache {
  get(key: string): RangeSummary | undefined;
  set(key: string, summary: RangeSummary): void;
}

/** The most recently used `limit` summaries of this process (each a few hundred bytes). */
export function createSummaryCache(limit = 1000): SummaryCache {
  const entries = new Map<string, RangeSummary>();
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

/**
 * The query string read and checked against the installation's repositories: a repository id of
 * another installation, or one that does not exist, is refused like garbage, with nothing said
 * about whose it is.
 */
export async function resolveMetricsQuery(db: Db, installation: Installation, raw: unknown, now: Date) {
  const parsed = parseMetricsQuery(raw, currentWeek(installation, now));
  const repositories = await listTrackedRepositoryNames(db, installation.id);
  const repoId = parsed.query?.repoId;
  if (parsed.query && repoId !== undefined && !repositories.some((repo) => repo.id === repoId)) {
    const [own] = await findInstallationRepositories(db, installation.id, [repoId]);
    parsed.errors.repo = own
      ? `${own.fullName} is not tracked, so it has no metrics. Track it on the Repositories page first.`
      : `${installation.accountLogin} has no tracked repository with the id ${repoId}.`;
    return { ...parsed, query: null, repositories };
  }
  return { ...parsed, repositories };
}

export type ResolvedMetricsQuery = Awaited<ReturnType<typeof resolveMetricsQuery>>;

function formView(installation: Installation, resolved: ResolvedMetricsQuery) {
  const { form, errors, repositories } = resolved;
  return {
    action: installationPath(installation.id, "metrics"),
    values: form,
    errors,
    invalid: Object.keys(errors).length > 0,
    ranges: [
      ...RANGE_PRESETS.map((value) => ({ value, label: `Last ${value} weeks` })),
      { value: "custom", label: "Custom range" },
    ].map((option) => ({ ...option, selected: option.value === form.range })),
    repositories: [
      { value: "all", label: "All tracked repositories", selected: form.repo === "all" },
      ...repositories.map((repo) => ({
        value: String(repo.id),
        label: repo.fullName,
        selected: String(repo.id) === form.repo,
      })),
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

/** Everything the metrics page shows for a valid query. */
export async function buildMetricsViewModel(
  db: Db,
  installation: Installation,
  resolved: ResolvedMetricsQuery & { query: MetricsQuery },
  now: Date,
  cache: SummaryCache,
) {
  const { query } = resolved;
  const settings = parseInstallationSettings(installation.settings);
  const thisWeek = weekStartOf(now, settings.timezone);
  const weeks = listWeeks(query.from, query.to);
  const humansOnly = !query.includeBots;
  const [rows, pending] = await Promise.all([
    listWeeklyMetrics(db, installation.id, {
      repoId: query.repoId ?? ALL_REPOSITORIES,
      weeks: weeks.length,
      until: query.to,
      humansOnly,
    }),
    listPendingWeeks(db, installation.id),
  ]);
  const refreshedAt = rows.reduce<Date | null>(
    (latest, row) => (!latest || row.refreshedAt > latest ? row.refreshedAt : latest),
    null,
  );
  const pendingWeeks = pending.filter((week) => week.weekStart >= query.from && week.weekStart <= query.to);
  const filter = {
    from: query.from,
    to: query.to,
    timeZone: settings.timezone,
    repoId: query.repoId,
    humansOnly,
  };
  const kind = query.hours;
  const duration = DURATION_FIGURES[kind];
  const key =
    pendingWeeks.length === 0
      ? [installation.id, JSON.stringify(filter), kind, rows.length, refreshedAt?.getTime() ?? 0].join("|")
      : null;
  let summary = key ? cache.get(key) : undefined;
  if (!summary) {
    summary = await summarizeRange(db, installation.id, filter, shownPercentiles(kind));
    if (key) cache.set(key, summary);
  }
  const format = HOUR_FORMATS[kind].short;

  const byWeek = new Map(rows.map((row) => [row.weekStart, row]));
  const figures = weeks.map((week) => byWeek.get(week) ?? IDLE_WEEK);
  const labels = weeks.map(formatWeek);
  const totals = totalsOf(figures, summary);
  const repository = resolved.repositories.find((repo) => repo.id === query.repoId);
  const scope = repository ? repository.fullName : "all tracked repositories";
  const who = query.includeBots ? "every pull request" : "pull requests opened by people (bots left out)";
  const rangeText = `${labels[0]!.long} – ${formatWeek(lastDayOfWeek(query.to)).long}`;
  const showPatternReverts = settings.revertTitlePattern !== "";
  const unit = kind === "working" ? " (working hours)" : "";

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
      dataAsOf: timeView(refreshedAt),
      pending:
        pendingWeeks.length === 0
          ? null
          : `${pendingWeeks.length === 1 ? "One week" : `${formatCount(pendingWeeks.length)} weeks`} of this range ${pendingWeeks.length === 1 ? "is" : "are"} being recomputed after recent changes; ${pendingWeeks.length === 1 ? "its" : "their"} figures may change in a minute.`,
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
        buildStackedHoursChart({
          id: "chart-cycle-time",
          title: `Median cycle time per week, by phase${unit}`,
          description: `Median coding, pickup and review time${unit} of the pull requests merged each week, ${rangeText}, stacked, with a mark at the median cycle time; the table below has the same numbers.`,
          weeks: labels,
          stack: [
            {
              label: "Coding",
              className: "series-coding",
              values: figures.map((f) => f[duration.coding]),
            },
            {
              label: "Pickup",
              className: "series-pickup",
              values: figures.map((f) => f[duration.pickup]),
            },
            {
              label: "Review",
              className: "series-review",
              values: figures.map((f) => f[duration.review]),
            },
          ],
          marker: {
            label: "Median cycle time",
            className: "series-cycle",
            values: figures.map((f) => f[duration.cycle]),
          },
          formatHours: format,
          tooltip: (index) => {
            const f = figures[index]!;
            return f.prsMerged === 0
              ? `Week of ${labels[index]!.long}: nothing merged`
              : `Week of ${labels[index]!.long}: coding ${format(f[duration.coding])}, pickup ${format(f[duration.pickup])}, review ${format(f[duration.review])}; median cycle time ${format(f[duration.cycle])}${unit}`;
          },
        }),
      ],
    },
  };
}
