/**
 * The one definition of every figure PR Pulse shows. Each surface reads it instead of restating it:
 * the weekly rows (src/db/queries/weekly-metrics.ts), the range medians and the CSV export
 * (src/db/queries/metrics.ts), the week marking that tells which weekly rows a change touches
 * (src/metrics/weeks.ts), and the totals of the metrics page (src/web/view-models/metrics.ts).
 *
 * A figure aggregates one value of each pull request that counts (the pull requests of tracked
 * repositories that the page's filter keeps: src/db/queries/counted-pull-requests.ts, which also
 * defines the values the stored columns combine into) over those whose event falls in the period,
 * a week or a range of weeks, on the installation's calendar. The values themselves are computed
 * per pull request in src/metrics/pull-request.ts and stored.
 *
 * Figures are a contract: a stored column never changes meaning. A new way of counting is a new
 * figure, with a column of its own.
 */

/**
 * The moments a figure counts a pull request by, each the pull request field that holds it. A
 * pull request has activity in every week one of them falls in.
 */
export const EVENTS = {
  opened: "createdAt",
  merged: "mergedAt",
  closed: "closedAt",
  firstReviewed: "firstReviewAt",
} as const;

export type MetricEvent = keyof typeof EVENTS;
export type EventField = (typeof EVENTS)[MetricEvent];

/** The numbers each pull request brings to a figure. */
export type PullRequestValue =
  | "cycleTimeHours"
  | "reviewTimeHours"
  | "codingPhaseHours"
  | "pickupPhaseHours"
  | "reviewPhaseHours"
  | "cycleTimeWorkingHours"
  | "reviewTimeWorkingHours"
  | "codingPhaseWorkingHours"
  | "pickupPhaseWorkingHours"
  | "reviewPhaseWorkingHours"
  | "sizeLines"
  | "additions"
  | "deletions";

/** What a count can be limited to. */
export type PullRequestFlag = "closedUnmerged" | "isRevert" | "isRevertInclPattern" | "isHotfix";

export type Figure =
  /** How many pull requests had the event in the period (and the flag, if one is named). */
  | { kind: "count"; event: MetricEvent; only?: PullRequestFlag }
  /** The value added up over the pull requests with the event in the period (missing counts 0). */
  | { kind: "sum"; value: PullRequestValue; event: MetricEvent }
  /**
   * The continuous percentile (linear interpolation, as Postgres's percentile_cont) of the value
   * over the pull requests with the event in the period, rounded to hundredths or to a whole number.
   */
  | {
      kind: "percentile";
      fraction: number;
      value: PullRequestValue;
      event: MetricEvent;
      rounding: "hundredths" | "whole";
    };

/**
 * Every figure, named as its column of the weekly rows. Durations count in the week the pull
 * request merged, as the cycle time they divide, except time to first review, which counts in the
 * week of that first review. Each duration has a twin in working hours (`…WorkingHours`): the same
 * figure over the same pull requests, of the value measured inside the installation's working
 * hours only.
 */
export const FIGURES = {
  prsOpened: { kind: "count", event: "opened" },
  prsMerged: { kind: "count", event: "merged" },
  prsClosed: { kind: "count", event: "closed", only: "closedUnmerged" },
  medianCycleTimeHours: {
    kind: "percentile",
    fraction: 0.5,
    value: "cycleTimeHours",
    event: "merged",
    rounding: "hundredths",
  },
  p75CycleTimeHours: {
    kind: "percentile",
    fraction: 0.75,
    value: "cycleTimeHours",
    event: "merged",
    rounding: "hundredths",
  },
  medianReviewTimeHours: {
    kind: "percentile",
    fraction: 0.5,
    value: "reviewTimeHours",
    event: "firstReviewed",
    rounding: "hundredths",
  },
  medianCodingPhaseHours: {
    kind: "percentile",
    fraction: 0.5,
    value: "codingPhaseHours",
    event: "merged",
    rounding: "hundredths",
  },
  medianPickupPhaseHours: {
    kind: "percentile",
    fraction: 0.5,
    value: "pickupPhaseHours",
    event: "merged",
    rounding: "hundredths",
  },
  medianReviewPhaseHours: {
    kind: "percentile",
    fraction: 0.5,
    value: "reviewPhaseHours",
    event: "merged",
    rounding: "hundredths",
  },
  medianCycleTimeWorkingHours: {
    kind: "percentile",
    fraction: 0.5,
    value: "cycleTimeWorkingHours",
    event: "merged",
    rounding: "hundredths",
  },
  p75CycleTimeWorkingHours: {
    kind: "percentile",
    fraction: 0.75,
    value: "cycleTimeWorkingHours",
    event: "merged",
    rounding: "hundredths",
  },
  medianReviewTimeWorkingHours: {
    kind: "percentile",
    fraction: 0.5,
    value: "reviewTimeWorkingHours",
    event: "firstReviewed",
    rounding: "hundredths",
  },
  medianCodingPhaseWorkingHours: {
    kind: "percentile",
    fraction: 0.5,
    value: "codingPhaseWorkingHours",
    event: "merged",
    rounding: "hundredths",
  },
  medianPickupPhaseWorkingHours: {
    kind: "percentile",
    fraction: 0.5,
    value: "pickupPhaseWorkingHours",
    event: "merged",
    rounding: "hundredths",
  },
  medianReviewPhaseWorkingHours: {
    kind: "percentile",
    fraction: 0.5,
    value: "reviewPhaseWorkingHours",
    event: "merged",
    rounding: "hundredths",
  },
  medianSizeLines: {
    kind: "percentile",
    fraction: 0.5,
    value: "sizeLines",
    event: "merged",
    rounding: "whole",
  },
  reverts: { kind: "count", event: "merged", only: "isRevert" },
  revertsWithPattern: { kind: "count", event: "merged", only: "isRevertInclPattern" },
  hotfixes: { kind: "count", event: "merged", only: "isHotfix" },
  additions: { kind: "sum", value: "additions", event: "merged" },
  deletions: { kind: "sum", value: "deletions", event: "merged" },
} satisfies Record<string, Figure>;

export type FigureName = keyof typeof FIGURES;

type FiguresOfKind<Kind extends Figure["kind"]> = {
  [Name in FigureName]: (typeof FIGURES)[Name]["kind"] extends Kind ? Name : never;
}[FigureName];
/** Figures a range adds up from its weeks: counts and sums. */
export type AdditiveFigure = FiguresOfKind<"count" | "sum">;
/** Figures a range cannot add up from its weeks: percentiles. */
export type PercentileFigure = FiguresOfKind<"percentile">;

const names = Object.keys(FIGURES) as FigureName[];
export const ADDITIVE_FIGURES = names.filter(
  (name): name is AdditiveFigure => FIGURES[name].kind !== "percentile",
);
export const PERCENTILE_FIGURES = names.filter(
  (name): name is PercentileFigure => FIGURES[name].kind === "percentile",
);

/** The events any of these figures counts by. */
export function eventsOf(names: readonly FigureName[]): MetricEvent[] {
  return [...new Set(names.map((name) => (FIGURES[name] as Figure).event))];
}

/** How durations are counted: every hour, or only the installation's working hours. */
export const HOUR_KINDS = ["calendar", "working"] as const;
export type HourKind = (typeof HOUR_KINDS)[number];

/** The duration figures a page shows, by what they are. */
export type DurationRole = "cycle" | "cycleP75" | "reviewTime" | "coding" | "pickup" | "review";

/** Which figure each duration is, in calendar and in working hours. */
export const DURATION_FIGURES = {
  calendar: {
    cycle: "medianCycleTimeHours",
    cycleP75: "p75CycleTimeHours",
    reviewTime: "medianReviewTimeHours",
    coding: "medianCodingPhaseHours",
    pickup: "medianPickupPhaseHours",
    review: "medianReviewPhaseHours",
  },
  working: {
    cycle: "medianCycleTimeWorkingHours",
    cycleP75: "p75CycleTimeWorkingHours",
    reviewTime: "medianReviewTimeWorkingHours",
    coding: "medianCodingPhaseWorkingHours",
    pickup: "medianPickupPhaseWorkingHours",
    review: "medianReviewPhaseWorkingHours",
  },
} as const satisfies Record<HourKind, Record<DurationRole, PercentileFigure>>;

/**
 * Pull request size buckets: a merged pull request falls in the first bucket whose `upTo` is at or
 * above its size (lines added plus deleted); the last has no upper bound. The bounds follow the
 * common XS…XXL labels of code review tools, so a team reads them without a legend.
 */
export const SIZE_BUCKETS = [
  { label: "XS", upTo: 10 },
  { label: "S", upTo: 50 },
  { label: "M", upTo: 200 },
  { label: "L", upTo: 500 },
  { label: "XL", upTo: 1000 },
  { label: "XXL", upTo: null },
] as const satisfies readonly { label: string; upTo: number | null }[];

/**
 * The size distribution of a range: per bucket, how many pull requests merged in the range, and the
 * median (percentile_cont 0.5, hundredths) of their cycle time in the page's kind of hours.
 */
export const SIZE_CYCLE_VALUE = {
  calendar: "cycleTimeHours",
  working: "cycleTimeWorkingHours",
} as const satisfies Record<HourKind, PullRequestValue>;

/**
 * Phases that add up: over the pull requests merged in a period that have all three phases
 * (coding, pickup and review in the page's kind of hours), the mean of each phase rounded to
 * hundredths. The phase total is the sum of the three rounded means, so the stack and its total
 * agree exactly; it is, to within rounding, the mean of those pull requests' three phases added up.
 * The stored weekly medians of each phase keep their meaning: medians do not add up.
 */
export const PHASE_VALUES = {
  calendar: ["codingPhaseHours", "pickupPhaseHours", "reviewPhaseHours"],
  working: ["codingPhaseWorkingHours", "pickupPhaseWorkingHours", "reviewPhaseWorkingHours"],
} as const satisfies Record<HourKind, readonly [PullRequestValue, PullRequestValue, PullRequestValue]>;
