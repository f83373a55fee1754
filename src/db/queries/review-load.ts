import { sql, type SQL } from "drizzle-orm";
import type { Db } from "../client.js";
import { reviews } from "../schema/index.js";
import { countedPullRequests, figureSql } from "./counted-pull-requests.js";
import { inTeam, teamClosure } from "./teams.js";
import { rangeBounds, type WeekRange } from "./week-range.js";

/**
 * Review load: who gives the reviews. A review counts as review work when it was submitted (not a
 * pending draft), by a known account other than the pull request's author, and not by a bot (type
 * Bot or a login ending in [bot]), on a pull request the view counts (tracked repositories, the
 * view's repository, bots' pull requests in or out: counted-pull-requests.ts). Dismissed reviews
 * count: they were given. A first review (src/metrics/pull-request.ts computeFirstReview) is such
 * a review, so the pull requests first reviewed in a range are found among the range's reviews.
 * A review counts in the week it was submitted, on the installation's calendar, for its reviewer
 * and every team they are in now (sub-teams' members count for their parents).
 *
 * Each query reads the range's reviews with their pull requests once: the reviews given, and the
 * first reviews among them with their time to first review (src/figures.ts medianReviewTimeHours).
 */

/** What a view of review load counts: the reviews of its pull requests in its range of weeks. */
export interface ReviewLoadView extends WeekRange {
  installationId: number;
  repoId?: number | undefined;
  humansOnly: boolean;
}

/** Whose reviews: a team's members (sub-teams included), one person, or everyone. */
export type Reviewers = { teamId: number } | { userId: number } | "everyone";

/**
 * CTEs `given` (each review that counts, submitted in the range: its reviewer, week, pull request,
 * and whether it is that pull request's first review, with its time to first review) and `firsts`
 * (the first reviews among them, once per pull request).
 */
function givenInRange(view: ReviewLoadView, reviewers: Reviewers): SQL {
  const { low, high } = rangeBounds(view);
  const scope = { installationId: view.installationId, repoId: view.repoId, humansOnly: view.humansOnly };
  return sql`
    given as (
      select r.reviewer_id, r.pull_request_id,
             date_trunc('week', r.submitted_at at time zone ${view.timeZone}::text)::date as week_start,
             (r.reviewer_id = p.first_reviewer_id and r.submitted_at = p.first_review_at) as is_first,
             p.review_time_hours
      from ${reviews} r
      join ${countedPullRequests(scope)} p on p.installation_id = r.installation_id and p.id = r.pull_request_id
      where r.installation_id = ${view.installationId}::bigint
        and r.submitted_at >= ${low} and r.submitted_at < ${high}
        and r.state <> 'pending' and r.reviewer_id is not null
        and not coalesce(r.reviewer_type = 'Bot' or r.reviewer_login like '%[bot]', false)
        and not coalesce(case when p.author_id is not null then r.reviewer_id = p.author_id
                              else p.author_login is not null and r.reviewer_login = p.author_login end, false)
        and ${whose(view, reviewers, sql`r.reviewer_id`)}
    ),
    -- Two reviews of one reviewer in the same second are one first review.
    firsts as (
      select distinct on (pull_request_id) * from given where is_first order by pull_request_id
    )`;
}

function whose(view: ReviewLoadView, reviewers: Reviewers, userId: SQL): SQL {
  if (reviewers === "everyone") return sql`true`;
  if ("teamId" in reviewers) return inTeam(view.installationId, reviewers.teamId, userId);
  return sql`${userId} = ${reviewers.userId}::bigint`;
}

/** The median time to first review over the first reviews `p` (src/figures.ts). */
const medianFirstReview = sql`${figureSql("medianReviewTimeHours", () => sql`true`)}::text`;

export interface ReviewLoadWeek {
  weekStart: string;
  /** Reviews given. */
  reviews: number;
  /** People who gave them. */
  reviewers: number;
  /** Pull requests whose first review (src/figures.ts firstReviewed) these reviewers gave in the week. */
  firstReviews: number;
  /** Median time to first review of those pull requests (src/figures.ts medianReviewTimeHours). */
  medianReviewTimeHours: number | null;
}

export interface ReviewLoadRange {
  /** Each reviewer's reviews in the range, most first. */
  byReviewer: { reviewerId: number; reviews: number }[];
  firstReviews: number;
  /** Over the range's first reviews, as the range medians of the metrics page. */
  medianReviewTimeHours: number | null;
}

type Row = {
  kind: "given" | "first";
  group_id: string | null;
  week_start: string | null;
  reviewer_id: string | null;
  n: number;
  reviewers: number | null;
  median: string | null;
};

const toHours = (median: string | null) => (median === null ? null : Number(median));

/**
 * One group's review load (a team's, a person's, everyone's): week by week (weeks without any have
 * no row, oldest first), and over the whole range.
 */
export async function reviewLoadOf(
  db: Db,
  view: ReviewLoadView,
  reviewers: Reviewers,
): Promise<{ weeks: ReviewLoadWeek[]; range: ReviewLoadRange }> {
  const rows = await db.execute<Row>(sql`
    with ${givenInRange(view, reviewers)}
    select 'given' as kind, null::text as group_id, week_start::text, reviewer_id::text, count(*)::int as n,
           count(distinct reviewer_id)::int as reviewers, null::text as median
    from given
    group by grouping sets ((week_start), (reviewer_id), ())
    union all
    select 'first', null, week_start::text, null, count(*)::int, null, ${medianFirstReview}
    from firsts p
    group by grouping sets ((week_start), ())`);
  const weeks = new Map<string, ReviewLoadWeek>();
  const week = (weekStart: string) => {
    let found = weeks.get(weekStart);
    if (!found) {
      found = { weekStart, reviews: 0, reviewers: 0, firstReviews: 0, medianReviewTimeHours: null };
      weeks.set(weekStart, found);
    }
    return found;
  };
  const range: ReviewLoadRange = { byReviewer: [], firstReviews: 0, medianReviewTimeHours: null };
  for (const row of rows) {
    if (row.kind === "given" && row.week_start !== null) {
      Object.assign(week(row.week_start), { reviews: row.n, reviewers: row.reviewers });
    } else if (row.kind === "given" && row.reviewer_id !== null) {
      range.byReviewer.push({ reviewerId: Number(row.reviewer_id), reviews: row.n });
    } else if (row.kind === "first" && row.week_start !== null) {
      Object.assign(week(row.week_start), {
        firstReviews: row.n,
        medianReviewTimeHours: toHours(row.median),
      });
    } else if (row.kind === "first") {
      Object.assign(range, { firstReviews: row.n, medianReviewTimeHours: toHours(row.median) });
    }
  }
  range.byReviewer.sort((a, b) => b.reviews - a.reviews || a.reviewerId - b.reviewerId);
  return { weeks: [...weeks.values()].sort((a, b) => a.weekStart.localeCompare(b.weekStart)), range };
}

/**
 * Review load over a whole range, for everyone (key "everyone") and for every team (by team id).
 * A team none of whose members reviewed is absent.
 */
export async function reviewLoadByTeam(
  db: Db,
  view: ReviewLoadView,
): Promise<Map<number | "everyone", ReviewLoadRange>> {
  const closure = teamClosure(view.installationId);
  const rows = await db.execute<Row>(sql`
    with ${givenInRange(view, "everyone")},
    per_reviewer as (
      select reviewer_id, count(*)::int as n from given group by reviewer_id
    )
    select 'given' as kind, null::text as group_id, null::text as week_start, g.reviewer_id::text, g.n,
           null::int as reviewers, null::text as median
    from per_reviewer g
    union all
    select 'given', c.team_id::text, null, g.reviewer_id::text, g.n, null, null
    from per_reviewer g join ${closure} c on c.user_id = g.reviewer_id
    union all
    select 'first', null, null, null, count(*)::int, null, ${medianFirstReview}
    from firsts p
    union all
    select 'first', c.team_id::text, null, null, count(*)::int, null, ${medianFirstReview}
    from firsts p join ${closure} c on c.user_id = p.reviewer_id
    group by c.team_id`);
  const load = new Map<number | "everyone", ReviewLoadRange>();
  const group = (id: string | null) => {
    const key = id === null ? "everyone" : Number(id);
    let found = load.get(key);
    if (!found) {
      found = { byReviewer: [], firstReviews: 0, medianReviewTimeHours: null };
      load.set(key, found);
    }
    return found;
  };
  for (const row of rows) {
    if (row.kind === "given") {
      group(row.group_id).byReviewer.push({ reviewerId: Number(row.reviewer_id), reviews: row.n });
    } else if (row.n > 0) {
      Object.assign(group(row.group_id), { firstReviews: row.n, medianReviewTimeHours: toHours(row.median) });
    }
  }
  for (const range of load.values()) {
    range.byReviewer.sort((a, b) => b.reviews - a.reviews || a.reviewerId - b.reviewerId);
  }
  return load;
}
