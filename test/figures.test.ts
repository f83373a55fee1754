import { afterEach, describe, expect, it } from "@jest/globals";
import { sql } from "drizzle-orm";
import { summarizeRange } from "../src/db/queries/metrics.js";
import { COMBINED_VALUES } from "../src/db/queries/counted-pull-requests.js";
import { listWeeklyMetrics, refreshWeeklyMetrics } from "../src/db/queries/weekly-metrics.js";
import * as schema from "../src/db/schema/index.js";
import { FIGURES, type Figure } from "../src/figures.js";
import { affectedWeeks } from "../src/metrics/weeks.js";
import { Browser } from "./support/browser.js";
import { useTestApp } from "./support/harness.js";
import { csvObjects, table } from "./support/metrics-page.js";
import { signedIn } from "./support/session.js";

// One definition of each metric, read by every surface: a definition is changed in its one home
// (src/figures.ts for a figure, db/queries/counted-pull-requests.ts for a value the stored columns
// combine into or for who counts as a bot), the weeks are refreshed as the weekly job would after
// the change, and the weekly rows, the range medians, the metrics page and the CSV export must all
// show the new definition's numbers, worked out by hand below. A surface with its own copy of a
// rule keeps the old numbers and fails.
//
// The clock stands at Wednesday 2024-01-17 12:00 UTC; weeks are UTC weeks W1 = 2024-01-08 and
// W2 = 2024-01-15. Pull requests (lines added + deleted; "deploy-bot" is an account of type User):
//   A  opened W1 Mon 10:00, merged W2 Tue 10:00  cycle 192 h   100 + 50
//   B  opened W2 Mon 10:00, merged W2 Mon 20:00  cycle  10 h    10 + 200
//   C  opened W1 Tue 10:00, merged W1 Tue 14:00  cycle   4 h    30 + 0
//   D  opened W2 Tue 09:00, merged W2 Tue 11:00  cycle   2 h  1000 + 0, by deploy-bot
// As defined today: W1 merged C (cycle 4 h, size 30); W2 merged A, B, D (cycle median 10 h, size
// median 210); over W1–W2 cycle median (4 + 10) / 2 = 7 h, size median (150 + 210) / 2 = 180.

const NOW = new Date("2024-01-17T12:00:00Z");
const t = useTestApp(() => ({ queues: [], now: () => NOW }));

const INSTALLATION = 11;
const REPO = 1101;
const W1 = "2024-01-08";
const W2 = "2024-01-15";
const RANGE = `range=custom&from=${W1}&to=${W2}`;

type NewPullRequest = typeof schema.pullRequests.$inferInsert;

function merged(
  id: number,
  created: string,
  mergedAt: string,
  lines: { additions: number; deletions: number },
  author = "octocat",
): NewPullRequest {
  const cycleTimeHours = (Date.parse(mergedAt) - Date.parse(created)) / 3_600_000;
  return {
    installationId: INSTALLATION,
    id,
    repoId: REPO,
    number: id,
    title: `Change ${id}`,
    state: "merged",
    authorLogin: author,
    authorType: "User",
    headRef: `feature/${id}`,
    baseRef: "main",
    createdAt: new Date(created),
    updatedAt: new Date(mergedAt),
    mergedAt: new Date(mergedAt),
    closedAt: new Date(mergedAt),
    cycleTimeHours,
    ...lines,
  };
}

const PULL_REQUESTS = [
  merged(1, "2024-01-08T10:00:00Z", "2024-01-16T10:00:00Z", { additions: 100, deletions: 50 }),
  merged(2, "2024-01-15T10:00:00Z", "2024-01-15T20:00:00Z", { additions: 10, deletions: 200 }),
  merged(3, "2024-01-09T10:00:00Z", "2024-01-09T14:00:00Z", { additions: 30, deletions: 0 }),
  merged(4, "2024-01-16T09:00:00Z", "2024-01-16T11:00:00Z", { additions: 1000, deletions: 0 }, "deploy-bot"),
];

async function seed(): Promise<void> {
  await t.database.db
    .insert(schema.installations)
    .values({ id: INSTALLATION, accountId: 1, accountLogin: "acme", accountType: "Organization" });
  await t.database.db
    .insert(schema.repositories)
    .values({ id: REPO, installationId: INSTALLATION, fullName: "acme/api", tracked: true });
  await t.database.db.insert(schema.pullRequests).values(PULL_REQUESTS);
}

/** What the weekly job does after a change: the weeks the pull requests count in, refreshed. */
async function refreshWeeks(): Promise<void> {
  const weeks = affectedWeeks(PULL_REQUESTS as Parameters<typeof affectedWeeks>[0], "UTC");
  await refreshWeeklyMetrics(t.database.db, INSTALLATION, weeks, "UTC");
}

/** Every surface's figures, bots left out (the default view): weekly rows, range, page, CSV. */
async function surfaces(range = RANGE, from = W1) {
  const weekly = await listWeeklyMetrics(t.database.db, INSTALLATION, {
    until: W2,
    weeks: 2,
    humansOnly: true,
  });
  const summary = await summarizeRange(t.database.db, INSTALLATION, {
    from,
    to: W2,
    timeZone: "UTC",
    humansOnly: true,
  });
  const session = await signedIn(t.database, t.app.server, {
    installationIds: [INSTALLATION],
    authorizedAt: NOW,
  });
  const browser = new Browser(t.app.url, session.cookie);
  const page = table(await browser.get(`/installations/${INSTALLATION}/metrics?${range}`));
  const csv = csvObjects((await browser.get(`/installations/${INSTALLATION}/metrics.csv?${range}`)).body);
  return {
    weekly: Object.fromEntries(
      weekly.map((row) => [
        row.weekStart,
        {
          opened: row.prsOpened,
          merged: row.prsMerged,
          cycle: row.medianCycleTimeHours,
          size: row.medianSizeLines,
        },
      ]),
    ),
    range: { cycle: summary.medianCycleTimeHours, size: summary.medianSizeLines },
    page: Object.fromEntries(
      Object.entries(page.rows).map(([week, cells]) => [
        week,
        { merged: cells.merged, cycle: page.exact[week]?.cycle ?? null, size: cells.size },
      ]),
    ),
    csv: csv.map((row) => ({ number: row.number, bot: row.author_is_bot, size: row.size_lines })),
  };
}

/** Changes `key` of `holder` for the rest of the test (undone after it). */
const restores: (() => void)[] = [];
function redefine<T extends object, K extends keyof T>(holder: T, key: K, value: T[K]): void {
  const before = holder[key];
  restores.push(() => {
    holder[key] = before;
  });
  holder[key] = value;
}
afterEach(() => {
  for (const restore of restores.splice(0).reverse()) restore();
});

describe("one definition of each metric", () => {
  it("as defined today, every surface gives the same numbers", async () => {
    await seed();
    await refreshWeeks();
    expect(await surfaces()).toEqual({
      weekly: {
        [W1]: { opened: 2, merged: 1, cycle: 4, size: 30 },
        [W2]: { opened: 2, merged: 3, cycle: 10, size: 210 },
      },
      range: { cycle: 7, size: 180 },
      page: {
        [W1]: { merged: "1", cycle: "4.00 hours", size: "30 lines" },
        [W2]: { merged: "3", cycle: "10.00 hours", size: "210 lines" },
        total: { merged: "4", cycle: "7.00 hours", size: "180 lines" },
      },
      csv: [
        { number: "1", bot: "false", size: "150" },
        { number: "3", bot: "false", size: "30" },
        { number: "2", bot: "false", size: "210" },
        { number: "4", bot: "false", size: "1000" },
      ],
    });
  });

  it("a pull request's size, redefined where stored columns combine, moves every surface", async () => {
    await seed();
    // Size = lines added only. W2: 100, 10, 1000 → 100; W1–W2: 10, 30, 100, 1000 → 65.
    redefine(COMBINED_VALUES, "sizeLines", sql`coalesce(pr.additions, 0)`);
    await refreshWeeks();
    const figures = await surfaces();
    expect(figures.weekly[W2]).toMatchObject({ size: 100 });
    expect(figures.range.size).toBe(65);
    expect(figures.page[W2]!.size).toBe("100 lines");
    expect(figures.page.total!.size).toBe("65 lines");
    expect(figures.csv.map((row) => row.size)).toEqual(["100", "30", "10", "1000"]);
  });

  it("who counts as a bot, redefined in the one filter, moves every surface", async () => {
    await seed();
    // deploy-bot is a bot too now, and left out: W2 opened B, merged A and B (192, 10 → 101 h,
    // sizes 150, 210 → 180); W1–W2 cycle 4, 10, 192 → 10 h, size 30, 150, 210 → 150.
    redefine(
      COMBINED_VALUES,
      "byBot",
      sql`coalesce(pr.author_type = 'Bot' or pr.author_login like '%[bot]' or pr.author_login like '%-bot', false)`,
    );
    await refreshWeeks();
    const figures = await surfaces();
    expect(figures.weekly[W2]).toEqual({ opened: 1, merged: 2, cycle: 101, size: 180 });
    expect(figures.range).toEqual({ cycle: 10, size: 150 });
    expect(figures.page[W2]).toEqual({ merged: "2", cycle: "101.00 hours", size: "180 lines" });
    expect(figures.page.total).toEqual({ merged: "3", cycle: "10.00 hours", size: "150 lines" });
    expect(figures.csv.map((row) => row.number)).toEqual(["1", "3", "2"]);
  });

  it("a figure redefined in src/figures.ts moves the weekly rows, the range figures and the page", async () => {
    await seed();
    // Cycle time counted in the week the pull request opened: W1 A and C (192, 4 → 98 h); W2 B and
    // D (10, 2 → 6 h); over W2 alone 6 h (merged in W2, as before: 10 h).
    const cycle: Figure = FIGURES.medianCycleTimeHours;
    redefine(cycle, "event", "opened");
    await refreshWeeks();
    const figures = await surfaces(`range=custom&from=${W2}&to=${W2}`, W2);
    expect(figures.weekly[W1]).toMatchObject({ cycle: 98 });
    expect(figures.weekly[W2]).toMatchObject({ cycle: 6 });
    expect(figures.range.cycle).toBe(6);
    expect(figures.page[W2]!.cycle).toBe("6.00 hours");
    expect(figures.page.total!.cycle).toBe("6.00 hours");
  });
});
