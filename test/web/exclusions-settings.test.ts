import { describe, expect, it } from "@jest/globals";
import { eq } from "drizzle-orm";
import * as schema from "../../src/db/schema/index.js";
import { settingsForm } from "../support/settings-form.js";
import { Browser } from "../support/browser.js";
import { useTestApp } from "../support/harness.js";
import { signedIn, type TestSession } from "../support/session.js";

// The settings page's exclusions: the preview counts what the form would exclude without saving,
// and saving recomputes the stored reasons and the weekly figures, which then leave them out.

const NOW = new Date("2024-03-20T12:00:00Z");
const t = useTestApp({ queues: ["recomputePullRequests", "refreshWeeklyMetrics"], now: () => NOW });

const INSTALLATION = 3200;
const REPO = 32_001;
const path = `/installations/${INSTALLATION}/settings`;

async function setUp(): Promise<{ browser: Browser; session: TestSession }> {
  await t.database.db.insert(schema.installations).values({
    id: INSTALLATION,
    accountId: 9002,
    accountLogin: "octo-lead",
    accountType: "User",
  });
  await t.database.db
    .insert(schema.repositories)
    .values({ id: REPO, installationId: INSTALLATION, fullName: "octo-lead/app", tracked: true });
  const pr = (id: number, patch: Partial<typeof schema.pullRequests.$inferInsert>) => ({
    installationId: INSTALLATION,
    id,
    repoId: REPO,
    number: id,
    title: `Change ${id}`,
    state: "merged" as const,
    headRef: `feature/${id}`,
    baseRef: "main",
    authorLogin: "ada",
    authorType: "User",
    labels: [],
    createdAt: new Date("2024-03-04T10:00:00Z"),
    updatedAt: new Date("2024-03-05T10:00:00Z"),
    mergedAt: new Date("2024-03-05T10:00:00Z"),
    closedAt: new Date("2024-03-05T10:00:00Z"),
    ...patch,
  });
  await t.database.db
    .insert(schema.pullRequests)
    .values([
      pr(1, { labels: ["Dependencies"] }),
      pr(2, { authorLogin: "Grace" }),
      pr(3, { headRef: "release/1.2" }),
      pr(4, { baseRef: "gh-pages" }),
      pr(5, {}),
    ]);
  const session = await signedIn(t.database, t.app.server, { userId: 9002, installationIds: [INSTALLATION] });
  return { browser: new Browser(t.app.url, session.cookie), session };
}

/** The form at the defaults with these exclusions typed in. */
function form(session: TestSession, patch: Record<string, string> = {}): Record<string, string | string[]> {
  return settingsForm(session, {
    excludedLabels: "skip-metrics\ndependencies",
    excludedAuthors: "grace",
    excludedHeadBranchPattern: "^release/",
    excludedBaseBranchPattern: "",
    ...patch,
  });
}

describe("exclusions on the settings page", () => {
  it("previews how many pull requests the form would exclude, without saving", async () => {
    const { browser, session } = await setUp();
    const page = await browser.post(`${path}/preview`, form(session));
    expect(page.status).toBe(200);
    expect(page.body).toMatch(
      /would exclude <strong class="would-exclude">3<\/strong> of the\s+<strong class="preview-total">5<\/strong>/,
    );
    const [row] = await t.database.db
      .select()
      .from(schema.installations)
      .where(eq(schema.installations.id, INSTALLATION));
    // Nothing saved: the stored settings are still the defaults (no excluded author, label or branch).
    expect(row!.settings).toMatchObject({ excludedAuthors: [], excludedHeadBranchPattern: "" });
  });

  it("refuses an invalid branch pattern with a message", async () => {
    const { browser, session } = await setUp();
    const page = await browser.post(path, form(session, { excludedBaseBranchPattern: "(unclosed" }));
    expect(page.status).toBe(400);
    expect(page.body).toContain("Not a valid regular expression");
  });

  it("saves, then recomputes the reasons and the weekly figures leave the excluded out", async () => {
    const { browser, session } = await setUp();
    const saved = await browser.post(path, form(session, { excludedBaseBranchPattern: "^gh-pages$" }));
    expect(saved.status).toBe(303);
    await t.app.drain();
    const prs = await t.database.db
      .select({ id: schema.pullRequests.id, reason: schema.pullRequests.excludedReason })
      .from(schema.pullRequests)
      .orderBy(schema.pullRequests.id);
    expect(prs).toEqual([
      { id: 1, reason: "label: Dependencies" },
      { id: 2, reason: "author: Grace" },
      { id: 3, reason: "head branch: release/1.2" },
      { id: 4, reason: "base branch: gh-pages" },
      { id: 5, reason: null },
    ]);
    const weeks = await t.database.db
      .select()
      .from(schema.weeklyMetrics)
      .where(eq(schema.weeklyMetrics.repoId, REPO));
    expect(weeks.filter((w) => !w.humansOnly)).toEqual([
      expect.objectContaining({ weekStart: "2024-03-04", prsMerged: 1 }),
    ]);
  });
});
