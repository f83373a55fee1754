import { sql, type SQL } from "drizzle-orm";
import {
  EVENTS,
  FIGURES,
  type Figure,
  type FigureName,
  type MetricEvent,
  type PullRequestFlag,
  type PullRequestValue,
} from "../../figures.js";
import { pullRequests, repositories } from "../schema/index.js";
import { inTeam } from "./teams.js";

/**
 * Which pull requests count, with the values each brings to a figure: the one relation every
 * metric query reads (the weekly refresh, the range medians, the CSV export), and the one place
 * that turns a figure of src/figures.ts into SQL. A filter added to CountedScope (teams,
 * exclusions) is then honoured by every figure and every export at once.
 */

/** What a metrics view counts. */
export interface CountedScope {
  installationId: number;
  /** One repository; undefined for all of the installation's tracked repositories. */
  repoId?: number | undefined;
  /** Leave out pull requests opened by bots. */
  humansOnly?: boolean;
  /** One team: the pull requests whose author is in it now, or in a team under it. */
  teamId?: number | undefined;
  /**
   * Keep the pull requests the installation's exclusions leave out (excluded_reason set), for the
   * CSV that lists them with their reason. Every figure leaves them out.
   */
  includeExcluded?: boolean;
}

type CombinedName = PullRequestFlag | PullRequestValue | "byBot";

/**
 * The values that stored columns combine into, each written once; the other values are stored
 * columns of the same name, computed per pull request by src/metrics/pull-request.ts.
 *
 * "By a bot": opened by an account of type Bot or whose login ends in [bot] (reviewers are judged
 * by metrics/pull-request.ts isBot). A pull request without an author type or login (a deleted
 * account: GitHub's "ghost") was opened by a person: without the coalesce it would be null,
 * neither bot nor human, and drop out of the humans-only figures.
 */
export const COMBINED_VALUES = {
  sizeLines: sql`coalesce(pr.additions, 0) + coalesce(pr.deletions, 0)`,
  closedUnmerged: sql`pr.state = 'closed'`,
  isRevertInclPattern: sql`(pr.is_revert or pr.revert_pattern_match)`,
  byBot: sql`coalesce(pr.author_type = 'Bot' or pr.author_login like '%[bot]', false)`,
} satisfies Partial<Record<CombinedName, SQL>>;

type Combined = keyof typeof COMBINED_VALUES;
type StoredName = Exclude<CombinedName, Combined>;

const snakeCase = (name: string) => name.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);

/** The relation's column holding a value, a flag or an event's time. */
export function countedColumn(name: CombinedName | MetricEvent): SQL {
  const column =
    name in EVENTS
      ? pullRequests[EVENTS[name as MetricEvent]].name
      : name in COMBINED_VALUES
        ? snakeCase(name)
        : pullRequests[name as StoredName].name;
  return sql`${sql.identifier(column)}`;
}

/**
 * The pull requests a scope counts, as a subquery: every stored column of pull_requests, the
 * repository's name (`repository`) and the combined values under their snake_case names
 * (`size_lines`, `by_bot`, …). Only tracked repositories count.
 */
export function countedPullRequests(scope: CountedScope): SQL {
  const combined = (Object.keys(COMBINED_VALUES) as Combined[]).map(
    (name) => sql`${COMBINED_VALUES[name]} as ${countedColumn(name)}`,
  );
  const conditions = [sql`pr.installation_id = ${scope.installationId}::bigint`];
  if (scope.repoId !== undefined) conditions.push(sql`pr.repo_id = ${scope.repoId}::bigint`);
  if (scope.humansOnly) conditions.push(sql`not ${COMBINED_VALUES.byBot}`);
  if (!scope.includeExcluded) conditions.push(sql`pr.excluded_reason is null`);
  if (scope.teamId !== undefined)
    conditions.push(inTeam(scope.installationId, scope.teamId, sql`pr.author_id`));
  return sql`(
    select pr.*, r.full_name as repository, ${sql.join(combined, sql`, `)}
    from ${pullRequests} pr
    join ${repositories} r on r.id = pr.repo_id and r.installation_id = pr.installation_id and r.tracked
    where ${sql.join(conditions, sql` and `)}
  )`;
}

/**
 * A figure as an aggregate over the counted pull requests `p`, each counted when `inPeriod` says
 * its event is in the period (a week of the weekly rows, a whole range of the page).
 */
export function figureSql(name: FigureName, inPeriod: (event: MetricEvent) => SQL): SQL {
  const figure: Figure = FIGURES[name];
  const when =
    figure.kind === "count" && figure.only
      ? sql`${inPeriod(figure.event)} and p.${countedColumn(figure.only)}`
      : inPeriod(figure.event);
  switch (figure.kind) {
    case "count":
      return sql`count(*) filter (where ${when})::int`;
    case "sum":
      return sql`coalesce(sum(coalesce(p.${countedColumn(figure.value)}, 0)) filter (where ${when}), 0)::int`;
    case "percentile": {
      // percentile_cont reads double precision; identical calls over one column share one sort.
      const percentile = sql`percentile_cont(${sql.raw(String(figure.fraction))}) within group (order by p.${countedColumn(figure.value)}) filter (where ${when})`;
      return figure.rounding === "hundredths"
        ? sql`round((${percentile})::numeric, 2)`
        : sql`round(${percentile})::int`;
    }
  }
}

/** Whether any of the events falls in [low, high) (instants). */
export function anyEventBetween(events: readonly MetricEvent[], low: SQL, high: SQL): SQL {
  const within = events.map(
    (event) => sql`(p.${countedColumn(event)} >= ${low} and p.${countedColumn(event)} < ${high})`,
  );
  return sql`(${sql.join(within, sql` or `)})`;
}
