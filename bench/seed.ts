/**
 * A large installation written straight into Postgres, for the benchmarks that need one: one
 * organization's repositories and pull requests over two years (`generate_series`, random but
 * seeded, so every run writes the same data), with the reviews and commits the pull requests'
 * metrics are computed from, and what a sync stores from those: the first review and its reviewer,
 * the first commit, the fixed revert rule. Instants are whole seconds, as GitHub gives them. The values settings
 * decide (durations, hotfix and pattern flags) and the weekly rows are left to the app: see
 * settleOrganization.
 */
import type { Database } from "../src/db/client.js";
import { getInstallationSettings } from "../src/db/queries/installations.js";
import { weeksOfInstallation } from "../src/db/queries/pull-requests.js";
import { refreshWeeklyMetrics } from "../src/db/queries/weekly-metrics.js";
import { recomputeDerivedValues } from "../src/sync/recompute.js";

export const INSTALLATION = 1;
export const ACCOUNT = "bench-org";
const REPO_BASE = 100_000;

export interface SeedOptions {
  repos: number;
  prs: number;
  /** How far back pull requests were opened; 730 days give 105 weeks of activity. */
  historyDays: number;
}

export interface SeedCounts {
  pullRequests: number;
  reviews: number;
  commits: number;
}

/** Writes the installation, its repositories, pull requests, reviews and commits. */
export async function seedOrganization(database: Database, options: SeedOptions): Promise<SeedCounts> {
  const { sql } = database;
  const tracked = options.repos - Math.floor(options.repos / 10);
  const prsPerRepo = Math.ceil(options.prs / options.repos);
  await sql`insert into installations (id, account_id, account_login, account_type, repository_selection)
            values (${INSTALLATION}, 1, ${ACCOUNT}, 'Organization', 'all')`;
  await sql`
    insert into repositories (id, installation_id, full_name, tracked, sync_status, prs_total, prs_done,
                              last_activity_at, last_successful_sync_at)
    select ${REPO_BASE} + i, ${INSTALLATION}, ${ACCOUNT} || '/service-' || lpad(i::text, 4, '0'),
           -- One in ten not tracked and without pull requests: the page lists every repository,
           -- the metrics and the export count the tracked ones, which hold all the pull requests.
           i % 10 <> 0, 'complete', ${prsPerRepo}, ${prsPerRepo},
           now() - i * interval '17 minutes', now() - interval '1 hour'
    from generate_series(1, ${options.repos}) as i`;
  return sql.begin(async (tx) => {
    // Same pseudo-random data on every run.
    await tx`select setseed(0.42)`;
    await tx`
      create temporary table facts on commit drop as
      select *,
             case when merges and reviewed + interval '1 hour' * (1 + u_merge * 72) < now()
                  then date_trunc('second', reviewed + interval '1 hour' * (1 + u_merge * 72)) end as merged_at
      from (
        select *, case when first_review_raw < now() then first_review_raw end as first_review,
                  coalesce(case when first_review_raw < now() then first_review_raw end, ready) as reviewed
        from (
          select *, coalesce(ready_at, created_at) as ready,
                    case when u_review < 0.85
                         then date_trunc('second', coalesce(ready_at, created_at) + interval '1 hour' * (0.2 + u_wait * 48)) end
                      as first_review_raw
          from (
            select i,
                   -- The j-th tracked repository is the (j + j / 9 + 1)-th: every tenth is skipped.
                   ${REPO_BASE} + (i - 1) % ${tracked} + (i - 1) % ${tracked} / 9 + 1 as repo_id,
                   (i - 1) / ${tracked} + 1 as number,
                   case when u_kind < 0.02 then 'Revert "Change ' || (i - 1) || '"'
                        when i % 97 = 0 then '=SUM(A1:A9) change ' || i
                        when i % 10 = 0 then 'Change ' || i || ', with "quotes", and a comma'
                        else 'Change ' || i end as title,
                   u_bot < 0.08 as by_bot,
                   case when u_bot < 0.08 then 49699333 else 1000 + i % 200 end as author_id,
                   case when u_bot < 0.08 then 'dependabot[bot]' else 'dev-' || (i % 200) end as author_login,
                   case when u_bot < 0.08 then 'Bot' else 'User' end as author_type,
                   case when u_kind between 0.02 and 0.05 then 'hotfix/' || i
                        when u_kind between 0.05 and 0.08 then 'release/' || i
                        else 'feature/' || i end as head_ref,
                   u_kind < 0.02 as reverts,
                   created_at,
                   date_trunc('second', created_at - interval '1 hour' * (u_code * 72)) as first_commit,
                   case when u_draft < 0.2
                        then date_trunc('second', created_at + interval '1 hour' * (u_draft * 100)) end as ready_at,
                   1 + (u_commits * 6)::int as commit_count,
                   u_review, u_wait, u_merge, u_second, u_state < 0.78 as merges, u_state >= 0.88 as closed,
                   (10 + u_size * u_size * 800)::int as additions, (u_size * 200)::int as deletions
            from (
              select i, date_trunc('second', now() - interval '1 day' * (random() * ${options.historyDays})) as created_at,
                     random() as u_kind, random() as u_bot, random() as u_code, random() as u_draft,
                     random() as u_review, random() as u_wait, random() as u_merge, random() as u_state,
                     random() as u_size, random() as u_commits, random() as u_second
              from generate_series(1, ${options.prs}) as i
            ) draws
          ) facts
        ) readied
      ) reviewed`;
    await tx`
      insert into pull_requests (
        installation_id, id, repo_id, number, title, state, author_id, author_login, author_type,
        head_ref, base_ref, created_at, updated_at, closed_at, merged_at, ready_for_review_at,
        first_commit_at, first_review_at, first_reviewer_id, is_revert, additions, deletions, changed_files,
        commits_count, details_synced_at)
      select ${INSTALLATION}, i, repo_id, number, title,
             case when merged_at is not null then 'merged' when closed then 'closed' else 'open' end,
             author_id, author_login, author_type, head_ref, 'main', created_at,
             coalesce(merged_at, created_at),
             case when merged_at is not null or closed then coalesce(merged_at, date_trunc('second', least(now(), ready + interval '3 days'))) end,
             merged_at, ready_at, first_commit, first_review,
             -- The first review's reviewer (review 1 below: the others are later, a bot's or the author's).
             case when first_review is not null then 1000 + (i + 7) % 200 end,
             reverts, additions, deletions, 3, commit_count, now()
      from facts`;
    // The first review by someone else; for some a second one later; for some an earlier review
    // by a bot or by the author, which the first review leaves out.
    await tx`
      insert into reviews (id, installation_id, pull_request_id, repo_id, reviewer_id, reviewer_login,
                           reviewer_type, state, submitted_at)
      select i * 4 + n, ${INSTALLATION}, i, repo_id, reviewer_id, reviewer_login, reviewer_type, state, at
      from facts
      cross join lateral (values
        (1, 1000 + (i + 7) % 200, 'dev-' || (i + 7) % 200, 'User',
         case when merges then 'approved' else 'commented' end, first_review),
        (2, 1000 + (i + 13) % 200, 'dev-' || (i + 13) % 200, 'User', 'commented',
         case when u_second < 0.7 then date_trunc('second', first_review + interval '1 hour' * (1 + u_second * 20)) end),
        (3, 175728472, 'copilot-pull-request-reviewer[bot]', 'Bot', 'commented',
         case when u_second < 0.1 then ready + interval '1 minute' end),
        (4, author_id, author_login, author_type, 'commented',
         case when u_second > 0.95 then ready + interval '2 minutes' end)
      ) as r(n, reviewer_id, reviewer_login, reviewer_type, state, at)
      where first_review is not null and at is not null and at < now()`;
    // Commits spread from the first one to the moment the pull request was ready; a revert's first
    // commit says which commit it reverts.
    await tx`
      insert into commits (installation_id, pull_request_id, sha, repo_id, author_id, author_login,
                           author_email, author_name, message, authored_at, committed_at)
      select ${INSTALLATION}, i, md5(i || ':' || k), repo_id, author_id, author_login,
             author_login || '@example.com', author_login,
             case when reverts and k = 0 then title || E'\n\nThis reverts commit ' || md5(i::text) || '.'
                  else 'Change ' || i || ', step ' || k end,
             date_trunc('second', first_commit + (ready - first_commit) * k / commit_count),
             date_trunc('second', first_commit + (ready - first_commit) * k / commit_count) + interval '1 minute'
      from facts cross join lateral generate_series(0, commit_count - 1) as k`;
    const [counts] = await tx<SeedCounts[]>`
      select (select count(*)::int from pull_requests) as "pullRequests",
             (select count(*)::int from reviews) as reviews,
             (select count(*)::int from commits) as commits`;
    return counts!;
  });
}

/**
 * The organization's teams, as the members sync stores them: 4 divisions of 4 squads each (20
 * teams). The 200 authors (and reviewers) of seedOrganization are spread over the 16 squads, 12 or
 * 13 each, so a squad's figures read about 6% of the pull requests and a division's (its squads'
 * members) about a quarter. Returns the ids: divisions first, then squads.
 */
export async function seedTeams(database: Database): Promise<{ divisions: number[]; squads: number[] }> {
  const { sql } = database;
  const divisions = [1, 2, 3, 4].map((d) => 5000 + d);
  const squads = divisions.flatMap((division, d) => [1, 2, 3, 4].map((s) => 5100 + d * 4 + s));
  await sql`
    insert into teams (installation_id, id, slug, name, parent_id)
    select ${INSTALLATION}::bigint, 5000 + d, 'division-' || d, 'Division ' || d, null from generate_series(1, 4) as d
    union all
    select ${INSTALLATION}::bigint, 5100 + (d - 1) * 4 + s, 'squad-' || d || '-' || s, 'Squad ' || d || '.' || s, 5000 + d
    from generate_series(1, 4) as d cross join generate_series(1, 4) as s`;
  await sql`
    insert into team_members (installation_id, team_id, user_id, login)
    select ${INSTALLATION}::bigint, 5101 + i % 16, 1000 + i, 'dev-' || i from generate_series(0, 199) as i`;
  await sql`analyze teams, team_members`;
  return { divisions, squads };
}

/**
 * The organization's members, as the members sync stores them: the 200 authors of
 * seedOrganization (their commits are linked to their accounts), and 40 who left.
 */
export async function seedMembers(database: Database): Promise<void> {
  const { sql } = database;
  await sql`
    insert into members (installation_id, user_id, login, name, email, type, active)
    select ${INSTALLATION}::bigint, 1000 + i, 'dev-' || i, 'Dev ' || i, 'dev-' || i || '@example.com', 'User', i < 200
    from generate_series(0, 239) as i`;
}

/**
 * What the app makes of the seeded pull requests under the installation's settings: the values
 * settings decide, computed by the recompute, then every week's rows by the weekly refresh. The
 * planner's statistics are gathered first and last, as autovacuum keeps them while a backfill
 * writes: without any, Postgres takes 100,000 rows for a few and joins them row by row. Returns
 * the weeks.
 */
export async function settleOrganization(database: Database): Promise<number> {
  await database.sql`analyze`;
  const settings = await getInstallationSettings(database.db, INSTALLATION);
  await recomputeDerivedValues(database.db, INSTALLATION, settings);
  const weeks = await weeksOfInstallation(database.db, INSTALLATION, settings.timezone);
  await refreshWeeklyMetrics(database.db, INSTALLATION, weeks, settings.timezone);
  await database.sql`vacuum analyze`;
  return weeks.length;
}
