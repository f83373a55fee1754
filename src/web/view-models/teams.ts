import type { Db } from "../../db/client.js";
import {
  reviewLoadByTeam,
  reviewLoadOf,
  type ReviewLoadRange,
  type ReviewLoadView,
  type ReviewLoadWeek,
  type Reviewers,
} from "../../db/queries/review-load.js";
import { listTeamPeople, listTeamsOfUser, teamsVersion } from "../../db/queries/teams.js";
import { figuresVersion } from "../../db/queries/weekly-metrics.js";
import type { Installation, Team, WeeklyMetricsRow } from "../../db/schema/index.js";
import type { FigureName } from "../../figures.js";
import { lastDayOfWeek, listWeeks } from "../../metrics/range.js";
import { reviewShares, TOP_REVIEWERS, type ReviewShares } from "../../metrics/review-load.js";
import { weekStartOf } from "../../metrics/weeks.js";
import { parseInstallationSettings } from "../../settings.js";
import { formatCount } from "./format.js";
import { installationHeader, installationPath } from "./installation.js";
import { buildGroupedBarChart, buildGroupedHoursChart } from "./metrics-charts.js";
import {
  countCell,
  formatHours,
  formatWeek,
  formView,
  hoursCell,
  metricsParams,
  readViewFigures,
  type Cell,
  type MetricsQuery,
  type MetricsView,
  type ResolvedMetricsQuery,
  type SummaryCache,
} from "./metrics.js";

/**
 * The Teams tab: every team with its review load over a range, a team's page (its weekly trend
 * beside the organization's, the reviews its members gave), and one person's reviews, which only
 * an admin who opens that person's page sees: no page lists people by their numbers.
 *
 * The range and filters are the metrics page's (resolveMetricsQuery); a team's figures are the
 * metrics page's figures cut by team (readViewFigures), review load is src/db/queries/review-load.ts.
 */

type Resolved = ResolvedMetricsQuery & { query: MetricsQuery };
type Figures = Pick<WeeklyMetricsRow, FigureName>;

/** What the tab keeps between views: figures (as the metrics page) and review load. */
export interface TeamsCaches {
  figures: SummaryCache;
  reviews: SummaryCache<unknown>;
}

/**
 * Review load computed once per view, reviewers and version of the data (weekly-metrics.ts
 * figuresVersion: any change to a pull request or review; and the teams): a page viewed again
 * reads the range's reviews once per change, not once per view.
 */
async function keptReviewLoad<T>(
  db: Db,
  cache: SummaryCache<unknown>,
  view: ReviewLoadView,
  reviewers: Reviewers | "by-team",
  compute: () => Promise<T>,
): Promise<T> {
  const [figures, teams] = await Promise.all([
    figuresVersion(db, view.installationId),
    teamsVersion(db, view.installationId),
  ]);
  const key = figures === null ? null : [JSON.stringify([view, reviewers]), figures, teams].join("|");
  const kept = key ? cache.get(key) : undefined;
  if (kept) return kept as T;
  const value = await compute();
  if (key) cache.set(key, value);
  return value;
}

const byTeam = (db: Db, cache: SummaryCache<unknown>, view: ReviewLoadView) =>
  keptReviewLoad(db, cache, view, "by-team", () => reviewLoadByTeam(db, view));
const loadOf = (db: Db, cache: SummaryCache<unknown>, view: ReviewLoadView, reviewers: Reviewers) =>
  keptReviewLoad(db, cache, view, reviewers, () => reviewLoadOf(db, view, reviewers));

export function teamsPath(installationId: number): string {
  return installationPath(installationId, "teams");
}

export function teamPath(installationId: number, teamId: number): string {
  return `${teamsPath(installationId)}/${teamId}`;
}

export function personPath(installationId: number, userId: number): string {
  return `/installations/${installationId}/people/${userId}`;
}

/** A path with the view's range and filters (not its team: the path names that). */
function withView(path: string, query: MetricsQuery): string {
  const params = metricsParams({ ...query, teamId: undefined });
  return `${path}?${params.toString()}`;
}

function viewOf(installation: Installation, query: MetricsQuery): MetricsView & ReviewLoadView {
  return {
    installationId: installation.id,
    from: query.from,
    to: query.to,
    timeZone: parseInstallationSettings(installation.settings).timezone,
    repoId: query.repoId,
    teamId: undefined,
    humansOnly: !query.includeBots,
  };
}

/** What every page of the tab says about its range and filters. */
function scopeText(resolved: Resolved) {
  const { query } = resolved;
  const repository = resolved.repository;
  const first = formatWeek(query.from).long;
  const last = formatWeek(lastDayOfWeek(query.to)).long;
  return {
    scope: repository ? repository.fullName : "all tracked repositories",
    rangeText: `${first} – ${last}`,
    who: query.includeBots ? "pull requests by people and bots" : "pull requests opened by people",
  };
}

const percent = (share: number | null) => (share === null ? "–" : `${Math.round(share * 100)}%`);

/** The range's review load of a group: reviews, reviewers, the busiest reviewers' shares, first reviews. */
function loadCells(load: ReviewLoadRange | undefined): { shares: ReviewShares; cells: Cell[] } {
  const shares = reviewShares(load?.byReviewer.map((reviewer) => reviewer.reviews) ?? []);
  return {
    shares,
    cells: [
      countCell("reviews", shares.reviews),
      countCell("reviewers", shares.reviewers),
      { metric: "top-three", text: percent(shares.topThree), exact: null },
      { metric: "top-fifth", text: percent(shares.topFifth), exact: null },
      countCell("first-reviews", load?.firstReviews ?? 0),
      hoursCell("first-review-time", load?.medianReviewTimeHours ?? null),
    ],
  };
}

const LOAD_COLUMNS = [
  { metric: "reviews", label: "Reviews given" },
  { metric: "reviewers", label: "Reviewers" },
  { metric: "top-three", label: `Top ${TOP_REVIEWERS} share` },
  { metric: "top-fifth", label: "Top 20% share" },
  { metric: "first-reviews", label: "First reviews given" },
  { metric: "first-review-time", label: "Time to first review" },
];

/** The definitions printed under every table of the tab. */
export const REVIEW_LOAD_DEFINITIONS = [
  {
    term: "Reviews given",
    text: "Reviews submitted in the range on the pull requests shown, each counted once for its reviewer and for every team the reviewer is in now (members of a team under another count for both). A pending draft, a review by the pull request's author and a review by a bot (an account of type Bot, or a login ending in [bot]) do not count; bots' reviews are never review load, whatever the bots box says, which is about who opened the pull requests.",
  },
  { term: "Reviewers", text: "People who gave at least one of those reviews." },
  {
    term: `Top ${TOP_REVIEWERS} share`,
    text: `The share of those reviews given by the ${TOP_REVIEWERS} people who gave the most (all of them when ${TOP_REVIEWERS} or fewer reviewed).`,
  },
  {
    term: "Top 20% share",
    text: "The share given by the fifth of the reviewers who gave the most, rounded up (1 of 1–5 reviewers, 2 of 6–10…). Even sharing keeps it near 20%; one person carrying the team shows as 100%.",
  },
  {
    term: "First reviews given, time to first review",
    text: "Pull requests whose first review (the earliest submitted review by someone other than the author and not a bot) these people gave in the range, and the median time from opening to that review: time to first review by the first reviewer's team.",
  },
];

/** The Teams tab: every team, parents before children, with its review load over the range. */
export async function buildTeamsViewModel(
  db: Db,
  installation: Installation,
  resolved: Resolved,
  caches: TeamsCaches,
) {
  const { query, teams } = resolved;
  const load = await byTeam(db, caches.reviews, viewOf(installation, query));
  const everyone = loadCells(load.get("everyone"));
  return {
    title: `Teams · ${installation.accountLogin}`,
    installation: installationHeader(installation, "teams"),
    form: formView(installation, resolved, teamsPath(installation.id)),
    ...scopeText(resolved),
    personal: installation.accountType !== "Organization",
    columns: LOAD_COLUMNS,
    everyone: { cells: everyone.cells },
    teams: teams.map((team) => ({
      id: team.id,
      name: team.name,
      depth: team.depth,
      href: withView(teamPath(installation.id, team.id), query),
      members: formatCount(team.members),
      directMembers: formatCount(team.directMembers),
      subTeams: formatCount(team.subTeams),
      cells: loadCells(load.get(team.id)).cells,
    })),
    definitions: REVIEW_LOAD_DEFINITIONS,
  };
}

function reviewCells(week: ReviewLoadWeek | undefined): Cell[] {
  return [
    countCell("reviews", week?.reviews ?? 0),
    countCell("reviewers", week?.reviewers ?? 0),
    countCell("first-reviews", week?.firstReviews ?? 0),
    hoursCell("first-review-time", week?.medianReviewTimeHours ?? null),
  ];
}

/** A week's (or the range's) figures of the team beside the organization's. */
function comparedCells(ours: Figures, org: Figures): Cell[] {
  return [
    countCell("opened", ours.prsOpened),
    countCell("merged", ours.prsMerged),
    hoursCell("cycle", ours.medianCycleTimeHours),
    hoursCell("org-cycle", org.medianCycleTimeHours),
    hoursCell("review-time", ours.medianReviewTimeHours),
    hoursCell("org-review-time", org.medianReviewTimeHours),
  ];
}

/** Where the team sits: its parent and the teams under it, each a link keeping the view. */
function teamPlace(installation: Installation, team: Team, resolved: Resolved) {
  const { teams, query } = resolved;
  const link = (other: { id: number; name: string }) => ({
    name: other.name,
    href: withView(teamPath(installation.id, other.id), query),
  });
  const parent = teams.find((candidate) => candidate.id === team.parentId);
  return {
    parent: parent ? link(parent) : null,
    children: teams.filter((candidate) => candidate.parentId === team.id).map(link),
  };
}

/** The team's median cycle time beside the organization's, and the reviews its members gave. */
function teamCharts(
  team: Team,
  weeks: string[],
  figures: { ours: readonly Figures[]; org: readonly Figures[] },
  reviewsByWeek: Map<string, ReviewLoadWeek>,
  rangeText: string,
) {
  const labels = weeks.map(formatWeek);
  const { ours, org } = figures;
  const given = (index: number) => reviewsByWeek.get(weeks[index]!);
  return [
    buildGroupedHoursChart({
      id: "chart-team-cycle",
      title: "Median cycle time per week: the team beside the organization",
      description: `Bars per week, ${rangeText}: the median cycle time of the team's pull requests merged that week, and of the organization's; the table below has the same numbers.`,
      weeks: labels,
      series: [
        { label: team.name, className: "series-team", values: ours.map((f) => f.medianCycleTimeHours) },
        { label: "Organization", className: "series-org", values: org.map((f) => f.medianCycleTimeHours) },
      ],
      formatHours,
      tooltip: (index) =>
        `Week of ${labels[index]!.long}: ${team.name} ${formatHours(ours[index]!.medianCycleTimeHours)}, organization ${formatHours(org[index]!.medianCycleTimeHours)}`,
    }),
    buildGroupedBarChart({
      id: "chart-team-reviews",
      title: "Reviews given per week by the team's members",
      description: `Bars per week, ${rangeText}: reviews given, and first reviews given; the table below has the same numbers.`,
      weeks: labels,
      series: [
        {
          label: "Reviews given",
          className: "series-reviews",
          values: weeks.map((_, index) => given(index)?.reviews ?? 0),
        },
        {
          label: "First reviews given",
          className: "series-first-reviews",
          values: weeks.map((_, index) => given(index)?.firstReviews ?? 0),
        },
      ],
      tooltip: (index) =>
        `Week of ${labels[index]!.long}: ${formatCount(given(index)?.reviews ?? 0)} reviews given, ${formatCount(given(index)?.firstReviews ?? 0)} first reviews`,
    }),
  ];
}

/** A team's page: its weeks beside the organization's, its members' reviews, and who is in it. */
export async function buildTeamViewModel(
  db: Db,
  installation: Installation,
  team: Team,
  context: { resolved: Resolved; now: Date; caches: TeamsCaches },
) {
  const { resolved, now, caches } = context;
  const { query } = resolved;
  const view = viewOf(installation, query);
  const [ours, org, reviews, people] = await Promise.all([
    readViewFigures(db, installation.id, { ...view, teamId: team.id }, now, caches.figures),
    readViewFigures(db, installation.id, view, now, caches.figures),
    loadOf(db, caches.reviews, view, { teamId: team.id }),
    listTeamPeople(db, installation.id, team.id),
  ]);
  const weeks = listWeeks(query.from, query.to);
  const reviewsByWeek = new Map(reviews.weeks.map((week) => [week.weekStart, week]));
  const thisWeek = weekStartOf(now, view.timeZone);
  const { shares, cells: rangeCells } = loadCells(reviews.range);
  const texts = scopeText(resolved);
  const teamQuery = metricsParams({ ...query, teamId: team.id }).toString();
  return {
    title: `${team.name} · Teams · ${installation.accountLogin}`,
    installation: installationHeader(installation, "teams"),
    form: formView(installation, resolved, teamPath(installation.id, team.id)),
    ...texts,
    team: {
      name: team.name,
      description: team.description,
      members: formatCount(people.length),
      ...teamPlace(installation, team, resolved),
    },
    links: {
      teams: withView(teamsPath(installation.id), query),
      metrics: `${installationPath(installation.id, "metrics")}?${teamQuery}`,
      csv: `${installationPath(installation.id, "metrics")}.csv?${teamQuery}`,
    },
    dataAsOf: ours.dataAsOf,
    headline: {
      merged: formatCount(ours.totals.prsMerged),
      cycle: formatHours(ours.totals.medianCycleTimeHours),
      orgCycle: formatHours(org.totals.medianCycleTimeHours),
      reviews: formatCount(shares.reviews),
      topThree: percent(shares.topThree),
    },
    charts: teamCharts(team, weeks, { ours: ours.figures, org: org.figures }, reviewsByWeek, texts.rangeText),
    weeks: weeks.map((week, index) => ({
      iso: week,
      label: formatWeek(week).long,
      current: week === thisWeek,
      cells: [
        ...comparedCells(ours.figures[index]!, org.figures[index]!),
        ...reviewCells(reviewsByWeek.get(week)),
      ],
    })),
    totals: {
      label: `${formatCount(weeks.length)} ${weeks.length === 1 ? "week" : "weeks"}`,
      // The range's reviews, reviewers, first reviews and their time (not its top shares: below).
      cells: [
        ...comparedCells(ours.totals, org.totals),
        ...rangeCells.filter((cell) => cell.metric !== "top-three" && cell.metric !== "top-fifth"),
      ],
    },
    shares: {
      topThree: percent(shares.topThree),
      topFifth: percent(shares.topFifth),
      topFifthCount: formatCount(shares.topFifthCount),
      reviewers: formatCount(shares.reviewers),
    },
    people: people.map((person) => ({
      login: person.login,
      name: person.name,
      direct: person.direct,
      href: withView(personPath(installation.id, person.userId), query),
    })),
    definitions: REVIEW_LOAD_DEFINITIONS,
  };
}

/** One person's reviews, week by week, with the teams they are in. */
export async function buildPersonViewModel(
  db: Db,
  installation: Installation,
  person: { userId: number; login: string; name: string | null },
  context: { resolved: Resolved; now: Date; caches: TeamsCaches },
) {
  const { resolved, now, caches } = context;
  const { query } = resolved;
  const view = viewOf(installation, query);
  const [own, load, teams] = await Promise.all([
    loadOf(db, caches.reviews, view, { userId: person.userId }),
    byTeam(db, caches.reviews, view),
    listTeamsOfUser(db, installation.id, person.userId),
  ]);
  const reviewWeeks = own.weeks;
  const weeks = listWeeks(query.from, query.to);
  const byWeek = new Map(reviewWeeks.map((week) => [week.weekStart, week]));
  const thisWeek = weekStartOf(now, view.timeZone);
  const given = (group: ReviewLoadRange | undefined) =>
    group?.byReviewer.find((reviewer) => reviewer.reviewerId === person.userId)?.reviews ?? 0;
  const total = reviewWeeks.reduce((sum, week) => sum + week.reviews, 0);
  const shareOf = (group: ReviewLoadRange | undefined) => {
    const all = reviewShares(group?.byReviewer.map((reviewer) => reviewer.reviews) ?? []).reviews;
    return all === 0 ? "–" : percent(given(group) / all);
  };
  return {
    title: `${person.login} · Teams · ${installation.accountLogin}`,
    installation: installationHeader(installation, "teams"),
    form: formView(installation, resolved, personPath(installation.id, person.userId)),
    ...scopeText(resolved),
    person: { login: person.login, name: person.name },
    back: withView(teamsPath(installation.id), query),
    total: formatCount(total),
    shares: [
      { label: "of the organization's reviews", share: shareOf(load.get("everyone")) },
      ...teams.map((team) => ({
        label: `of ${team.name}'s reviews`,
        href: withView(teamPath(installation.id, team.id), query),
        share: shareOf(load.get(team.id)),
      })),
    ],
    weeks: weeks.map((week) => ({
      iso: week,
      label: formatWeek(week).long,
      current: week === thisWeek,
      cells: reviewCells(byWeek.get(week)).filter((cell) => cell.metric !== "reviewers"),
    })),
    definitions: REVIEW_LOAD_DEFINITIONS,
  };
}
