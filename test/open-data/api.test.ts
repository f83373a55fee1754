import { beforeEach, describe, expect, it } from "@jest/globals";
import { refreshWeeklyMetrics } from "../../src/db/queries/weekly-metrics.js";
import * as schema from "../../src/db/schema/index.js";
import { Browser } from "../support/browser.js";
import { useTestApp } from "../support/harness.js";
import { csvObjects, table } from "../support/metrics-page.js";
import { signedIn, type TestSession } from "../support/session.js";

// The read API (/api/v1) and the SQL views, against the metrics page and its CSV for the same
// filter, and the tokens behind the API: created (shown once) and revoked by an admin on the
// settings page, each reading its own installation only.
//
// The clock stands at Wednesday 2024-01-17 12:00 UTC; weeks W1 = 2024-01-08 and W2 = 2024-01-15.
// Installation A's pull requests (cycle hours, lines): 1 W1→W2 192 h 150; 2 W2 10 h 210;
// 3 W1 4 h 30; 4 W2 2 h 1000 by renovate[bot]. Installation B has one pull request of its own.

const NOW = new Date("2024-01-17T12:00:00Z");
const t = useTestApp(() => ({ queues: [], now: () => NOW }));

const A = 11;
const B = 22;
const OWNER = 9001;
const W1 = "2024-01-08";
const W2 = "2024-01-15";
const FILTER = `range=custom&from=${W1}&to=${W2}`;

function merged(
  installationId: number,
  id: number,
  created: string,
  mergedAt: string,
  lines: number,
  author = "ada",
) {
  return {
    installationId,
    id,
    repoId: installationId * 100,
    number: id,
    title: `Change ${id}`,
    state: "merged" as const,
    authorLogin: author,
    authorType: author.endsWith("[bot]") ? "Bot" : "User",
    headRef: `feature/${id}`,
    baseRef: "main",
    createdAt: new Date(created),
    updatedAt: new Date(mergedAt),
    mergedAt: new Date(mergedAt),
    closedAt: new Date(mergedAt),
    cycleTimeHours: (Date.parse(mergedAt) - Date.parse(created)) / 3_600_000,
    additions: lines,
    deletions: 0,
  };
}

async function seed(): Promise<{ browser: Browser; session: TestSession }> {
  // Personal accounts: their owner administers them, no GitHub call needed.
  await t.database.db.insert(schema.installations).values([
    { id: A, accountId: OWNER, accountLogin: "ada", accountType: "User" },
    { id: B, accountId: 4242, accountLogin: "bob", accountType: "User" },
  ]);
  await t.database.db.insert(schema.repositories).values([
    { id: A * 100, installationId: A, fullName: "ada/api", tracked: true },
    { id: B * 100, installationId: B, fullName: "bob/api", tracked: true },
  ]);
  await t.database.db
    .insert(schema.pullRequests)
    .values([
      merged(A, 1, "2024-01-08T10:00:00Z", "2024-01-16T10:00:00Z", 150),
      merged(A, 2, "2024-01-15T10:00:00Z", "2024-01-15T20:00:00Z", 210),
      merged(A, 3, "2024-01-09T10:00:00Z", "2024-01-09T14:00:00Z", 30),
      merged(A, 4, "2024-01-16T09:00:00Z", "2024-01-16T11:00:00Z", 1000, "renovate[bot]"),
      merged(B, 5, "2024-01-16T09:00:00Z", "2024-01-16T12:00:00Z", 7),
    ]);
  for (const installation of [A, B]) await refreshWeeklyMetrics(t.database.db, installation, [W1, W2], "UTC");
  const session = await signedIn(t.database, t.app.server, { userId: OWNER, installationIds: [A] });
  return { browser: new Browser(t.app.url, session.cookie), session };
}

async function createToken(browser: Browser, session: TestSession, installation = A): Promise<string> {
  const page = await browser.post(`/installations/${installation}/settings/api-tokens`, {
    _csrf: session.csrfToken,
    name: "Grafana",
  });
  expect(page.status).toBe(200);
  return /prp_[A-Za-z0-9_-]{43}/.exec(page.body)![0];
}

async function api(path: string, token?: string) {
  const response = await fetch(`${t.app.url}/api/v1/installations/${path}`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

let browser: Browser;
let session: TestSession;
beforeEach(async () => {
  ({ browser, session } = await seed());
});

describe("API tokens", () => {
  it("are shown once, read only their installation, and stop at revocation", async () => {
    const token = await createToken(browser, session);
    const settings = await browser.get(`/installations/${A}/settings`);
    expect(settings.body).toContain("Grafana");
    expect(settings.body).toContain(token.slice(0, 10));
    expect(settings.body).not.toContain(token);
    const stored = await t.database.db.select().from(schema.apiTokens);
    expect(JSON.stringify(stored)).not.toContain(token);

    expect((await api(`${A}/teams`, token)).status).toBe(200);
    expect(await api(`${B}/teams`, token)).toEqual({ status: 404, body: { error: "Not found" } });
    expect((await api(`${B}/pull-requests?${FILTER}`, token)).status).toBe(404);
    expect((await api(`${A}/teams`)).status).toBe(401);
    expect((await api(`${A}/teams`, `prp_${"x".repeat(43)}`)).status).toBe(401);
    expect((await api(`${A}/teams`, "garbage")).status).toBe(401);

    const [row] = stored;
    const revoked = await browser.post(`/installations/${A}/settings/api-tokens/${row!.id}/revoke`, {
      _csrf: session.csrfToken,
    });
    expect(revoked.status).toBe(303);
    expect((await api(`${A}/teams`, token)).status).toBe(401);
  });

  it("cannot be created or revoked by someone who does not administer the installation", async () => {
    const created = await browser.post(`/installations/${B}/settings/api-tokens`, {
      _csrf: session.csrfToken,
      name: "Grafana",
    });
    expect(created.status).toBe(404);
    const own = await createToken(browser, session);
    const [row] = await t.database.db.select().from(schema.apiTokens);
    const other = await browser.post(`/installations/${B}/settings/api-tokens/${row!.id}/revoke`, {
      _csrf: session.csrfToken,
    });
    expect(other.status).toBe(404);
    expect((await api(`${A}/teams`, own)).status).toBe(200);
  });
});

describe("the same filter gives the same numbers", () => {
  it.each([
    ["bots left out", FILTER],
    ["bots included", `${FILTER}&bots=include`],
  ])("API, views, page and CSV: %s", async (_name, filter) => {
    const token = await createToken(browser, session);
    const csv = csvObjects((await browser.get(`/installations/${A}/metrics.csv?${filter}`)).body);
    const page = table(await browser.get(`/installations/${A}/metrics?${filter}`));

    // Every page of one pull request each, joined, is the CSV.
    const numbers: unknown[] = [];
    let cursor: string | null = null;
    do {
      const next: { status: number; body: Record<string, unknown> } = await api(
        `${A}/pull-requests?${filter}&limit=1${cursor ? `&cursor=${cursor}` : ""}`,
        token,
      );
      expect(next.status).toBe(200);
      const rows = next.body.pull_requests as {
        number: number;
        cycle_time_hours: number;
        size_lines: number;
      }[];
      numbers.push(...rows.map((row) => [String(row.number), row.cycle_time_hours, row.size_lines]));
      cursor = next.body.next_cursor as string | null;
      // A cursor that does not move on would page for ever.
      expect(numbers.length).toBeLessThanOrEqual(csv.length);
    } while (cursor);
    expect(numbers).toEqual(
      csv.map((row) => [row.number, Number(row.cycle_time_hours), Number(row.size_lines)]),
    );

    const weekly = await api(`${A}/weekly-metrics?${filter}`, token);
    const weeks = weekly.body.weeks as {
      week_start: string;
      prs_merged: number;
      median_cycle_time_hours: number;
    }[];
    const totals = weekly.body.totals as { prs_merged: number; median_cycle_time_hours: number };
    expect(
      weeks.map((week) => [week.week_start, String(week.prs_merged), week.median_cycle_time_hours]),
    ).toEqual(
      [W1, W2].map((week) => [week, page.rows[week]!.merged, Number.parseFloat(page.exact[week]!.cycle!)]),
    );
    expect([String(totals.prs_merged), totals.median_cycle_time_hours]).toEqual([
      page.rows.total!.merged,
      Number.parseFloat(page.exact.total!.cycle!),
    ]);

    // The views: the same pull requests when filtered as their columns document.
    const humansOnly = !filter.includes("bots=include");
    const viewRows = await t.database.sql<{ number: number }[]>`
      select number from pr_pulse_v1.pull_requests
      where installation_id = ${A} and counted and (not by_bot or ${!humansOnly})
      order by created_at, pull_request_id`;
    expect(viewRows.map((row) => String(row.number))).toEqual(csv.map((row) => row.number));
    const viewWeeks = await t.database.sql<{ week_start: string; prs_merged: number }[]>`
      select week_start::text, prs_merged from pr_pulse_v1.weekly_metrics
      where installation_id = ${A} and repo_id is null and humans_only = ${humansOnly} order by week_start`;
    expect(viewWeeks.map((week) => [week.week_start, week.prs_merged])).toEqual(
      weeks.map((week) => [week.week_start, week.prs_merged]),
    );
  });

  it("refuses a filter the page refuses, and a cursor it did not write, field by field", async () => {
    const token = await createToken(browser, session);
    const refused = await api(`${A}/weekly-metrics?range=custom&from=nope&to=${W2}`, token);
    expect(refused.status).toBe(400);
    expect(refused.body.fields).toEqual([{ field: "from", message: "Enter a date as YYYY-MM-DD." }]);
    expect((await api(`${A}/pull-requests?repo=${B * 100}`, token)).status).toBe(400);
    expect((await api(`${A}/pull-requests?cursor=abc`, token)).status).toBe(400);
    expect((await api(`${A}/pull-requests?limit=0`, token)).status).toBe(400);
  });
});
