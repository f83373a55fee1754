import { sql, type SQL } from "drizzle-orm";
import type { Db } from "../client.js";
import { reviews } from "../schema/index.js";
import { countedColumn, countedPullRequests, figureSql, type CountedScope } from "./counted-pull-requests.js";
import { rangeBounds, type WeekRange } from "./week-range.js";
import { inTeam, teamClosure } from "./teams.js";

/**
 * Review load: who gives the reviews. A review counts as review work when it was submitted (not a
 * pending draft), by a known account other than the pull request's author, and not by a bot (type
 * Bot or a login ending in [bot]), on a pull request the view counts (tracked repositories, the
 * view's repository, bots' pull requests in or out: counted-pull-requests.ts). The same reviews as
 * a first review may be (src/metrics/pull-request.ts computeFirstReview; test/review-load.test.ts
 * holds the two to one rule), dismissed ones included: they were given. It counts in the week it
 * was submitted, on the installation's calendar, for its reviewer and every team they are in now
 * (sub-teams' members count for their parents).
 */

/** What a view of review load counts: the reviews of its pull requests in its range of weeks. */
export interface ReviewLoadView extends WeekRange {
  installationId: number;
  repoId?: number | undefined;
  humansOnly: boolean;
}

/** Whose reviews: a team's members (sub-teams included), one person, or everyone. */
export type Reviewers = { teamId: number } | { userId: number } | "everyone";

/** The reviews that count, as a subquery: reviewer_id, submitted_at, pull_request_id. */
function countedReviews(view: ReviewLoadView): SQL {
  const scope: CountedScope = {
    installationId: view.installationId,
    repoId: view.repoId,
    humansOnly: view.humansOnly,
  };
  return sql`(
    select r.reviewer_id, r.submitted_at, r.pull_request_id
    from ${reviews} r
    join ${countedPullRequests(scope)} p on p.installation_id = r.installation_id and p.id = r.pull_request_id
    where r.installation_id = ${view.installationId}::bigint
      and r.state <> 'pending' and r.submitted_at is not null and r.reviewer_id is not null
      and not coalesce(r.reviewer_type = 'Bot' or r.reviewer_login like '%[bot]', false)
      and not coalesce(case when p.author_id is not null then r.reviewer_id = p.author_id
                            else p.author_login is not null and r.reviewer_login = p.author_login end, false)
  )`;
}

function whose(view: ReviewLoadView, reviewers: Reviewers, userId: SQL): SQL {
  if (reviewers === "everyone") return sql`true`;
  if ("teamId" in reviewers) return inTeam(view.installationId, reviewers.teamId, userId);
  return sql`${userId} = ${reviewers.userId}::bigint`;
}

const weekOf = (view: WeekRange, at: SQL) =>
  sql`date_trunc('week', ${at} at time zone ${view.timeZone}::text)::date`;

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

/** Review load week by week (weeks without any have no row), oldest first. */
export async function reviewLoadByWeek(
  db: Db,
  view: ReviewLoadView,
  reviewers: Reviewers,
): Promise<ReviewLoadWeek[]> {
  const { low, high } = rangeBounds(view);
  const firstReviewed = countedColumn("firstReviewed");
  const rows = await db.execute<{
    week_start: string;
    reviews: number;
    reviewers: number;
    first_reviews: number;
    median: string | null;
  }>(sql`
    with given as (
      select ${weekOf(view, sql`r.submitted_at`)} as week_start, count(*)::int as reviews,
             count(distinct r.reviewer_id)::int as reviewers
      from ${countedReviews(view)} r
      where r.submitted_at >= ${low} and r.submitted_at < ${high} and ${whose(view, reviewers, sql`r.reviewer_id`)}
      group by 1
    ),
    firsts as (
      select ${weekOf(view, sql`p.${firstReviewed}`)} as week_start, count(*)::int as first_reviews,
             ${figureSql("medianReviewTimeHours", () => sql`true`)} as median
      from ${countedPullRequests({ installationId: view.installationId, repoId: view.repoId, humansOnly: view.humansOnly })} p
      where p.${firstReviewed} >= ${low} and p.${firstReviewed} < ${high}
        and ${whose(view, reviewers, sql`p.first_reviewer_id`)}
      group by 1
    )
    select coalesce(g.week_start, f.week_start)::text as week_start, coalesce(g.reviews, 0) as reviews,
           coalesce(g.reviewers, 0) as reviewers, coalesce(f.first_reviews, 0) as first_reviews, f.median::text
    from given g full join firsts f on f.week_start = g.week_start
    order by 1`);
  return [...rows].map((row) => ({
    weekStart: row.week_start,
    reviews: row.reviews,
    reviewers: row.reviewers,
    firstReviews: row.first_reviews,
    medianReviewTimeHours: row.median === null ? null : Number(row.median),
  }));
}

export interface ReviewLoadRange {
  /** Each reviewer's reviews in the range, most first. */
  byReviewer: { reviewerId: number; reviews: number }[];
  firstReviews: number;
  /** Over the range's pull requests, as the range medians of the metrics page. */
  medianReviewTimeHours: number | null;
}

/**
 * Review load over a whole range, for everyone (key "everyone") and for every team (by team id):
 * each reviewer's reviews, and the pull requests first reviewed by them with their median time to
 * first review. A team none of whose members reviewed is absent.
 */
export async function reviewLoadOverRange(
  db: Db,
  view: ReviewLoadView,
): Promise<Map<number | "everyone", ReviewLoadRange>> {
  const { low, high } = rangeBounds(view);
  const firstReviewed = countedColumn("firstReviewed");
  const closure = teamClosure(view.installationId);
  const [given, firsts] = await Promise.all([
    db.execute<{ team_id: string | null; reviewer_id: string; reviews: number }>(sql`
      with given as (
        select r.reviewer_id, count(*)::int as reviews
        from ${countedReviews(view)} r
        where r.submitted_at >= ${low} and r.submitted_at < ${high}
        group by r.reviewer_id
      )
      select null::text as team_id, g.reviewer_id::text, g.reviews from given g
      union all
      select c.team_id::text, g.reviewer_id::text, g.reviews from given g join ${closure} c on c.user_id = g.reviewer_id
      order by 1, 3 desc, 2`),
    db.execute<{ team_id: string | null; first_reviews: number; median: string | null }>(sql`
      with firsts as (
        select p.*
        from ${countedPullRequests({ installationId: view.installationId, repoId: view.repoId, humansOnly: view.humansOnly })} p
        where p.${firstReviewed} >= ${low} and p.${firstReviewed} < ${high} and p.first_reviewer_id is not null
      )
      select null::text as team_id, count(*)::int as first_reviews,
             ${figureSql("medianReviewTimeHours", () => sql`true`)}::text as median
      from firsts p
      union all
      select c.team_id::text, count(*)::int, ${figureSql("medianReviewTimeHours", () => sql`true`)}::text
      from firsts p join ${closure} c on c.user_id = p.first_reviewer_id
      group by c.team_id`),
  ]);
  const load = new Map<number | "everyone", ReviewLoadRange>();
  const entry = (teamId: string | null) => {
    const key = teamId === null ? "everyone" : Number(teamId);
    let found = load.get(key);
    if (!found) load.set(key, (found = { byReviewer: [], firstReviews: 0, medianReviewTimeHours: null }));
    return found;
  };
  for (const row of given)
    entry(row.team_id).byReviewer.push({ reviewerId: Number(row.reviewer_id), reviews: row.reviews });
  for (const row of firsts) {
    if (row.team_id === null && row.first_reviews === 0) continue;
    const found = entry(row.team_id);
    found.firstReviews = row.first_reviews;
    found.medianReviewTimeHours = row.median === null ? null : Number(row.median);
  }
  return load;
}
