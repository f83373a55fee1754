import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { eq } from "drizzle-orm";
import * as schema from "../../src/db/schema/index.js";
import { defaultInstallationSettings, parseInstallationSettings } from "../../src/settings.js";
import { QUICK_JOBS } from "../support/app.js";
import { Browser } from "../support/browser.js";
import { startFakeGitHub, type FakeGitHub } from "../support/fake-github/index.js";
import { useTestApp } from "../support/harness.js";
import { signedIn, type TestSession } from "../support/session.js";
import { settingsForm } from "../support/settings-form.js";

// The settings page: validation, the pattern preview, and the recompute job a change queues
// (worked here: weekly figures and flags must follow the new patterns).

let github: FakeGitHub;
beforeAll(async () => {
  github = await startFakeGitHub({ seed: 22 });
});
// No test here looks at a debounced job: the weekly refresh after a recompute runs at once.
const t = useTestApp(() => ({
  env: { GHE_HOST: github.host, GHE_PROTOCOL: "http", ...QUICK_JOBS },
  queues: ["recomputePullRequests", "refreshWeeklyMetrics"],
}));
afterAll(async () => {
  await github.close();
});

const INSTALLATION = 3100;
const REPO = 31_001;

async function setUp(): Promise<{ browser: Browser; session: TestSession }> {
  await t.database.db.insert(schema.installations).values({
    id: INSTALLATION,
    accountId: 9001,
    accountLogin: "octo-admin",
    accountType: "User",
  });
  await t.database.db
    .insert(schema.repositories)
    .values({ id: REPO, installationId: INSTALLATION, fullName: "octo-admin/app", tracked: true });
  const pr = (id: number, title: string, headRef: string) => ({
    installationId: INSTALLATION,
    id,
    repoId: REPO,
    number: id,
    title,
    state: "merged" as const,
    headRef,
    baseRef: "main",
    createdAt: new Date("2024-03-04T10:00:00Z"),
    updatedAt: new Date("2024-03-05T10:00:00Z"),
    mergedAt: new Date("2024-03-05T10:00:00Z"),
    closedAt: new Date("2024-03-05T10:00:00Z"),
  });
  await t.database.db
    .insert(schema.pullRequests)
    .values([
      pr(1, "Fix login", "hotfix/login"),
      pr(2, "Rollback the deploy", "main-fix"),
      pr(3, "Add <b>markup</b> & more", "feature/x"),
    ]);
  // A personal account's installation: its owner administers it, no GitHub call needed.
  const session = await signedIn(t.database, t.app.server, { userId: 9001, installationIds: [INSTALLATION] });
  return { browser: new Browser(t.app.url, session.cookie), session };
}

const path = `/installations/${INSTALLATION}/settings`;

async function storedSettings() {
  const [row] = await t.database.db
    .select()
    .from(schema.installations)
    .where(eq(schema.installations.id, INSTALLATION));
  return parseInstallationSettings(row!.settings);
}

describe("settings", () => {
  it("shows the stored settings, escaping what it prints", async () => {
    const { browser } = await setUp();
    const page = await browser.get(path);
    expect(page.status).toBe(200);
    expect(page.body).toContain('value="UTC"');
    expect(page.body).toContain(`value="${defaultInstallationSettings.hotfixBranchPattern}"`);
  });

  it.each<[string, Record<string, string>, string]>([
    ["an unknown time zone", { timezone: "Mars/Olympus_Mons" }, "Choose a time zone"],
    ["a depth that is not offered", { defaultSyncDepth: "7d" }, "Choose one of the offered depths"],
    ["an invalid regular expression", { hotfixTitlePattern: "(unclosed" }, "Not a valid regular expression"],
    ["a backreference RE2 does not run", { hotfixBranchPattern: "(a)\\1" }, "Not a valid regular expression"],
    ["a pattern too long", { revertTitlePattern: "a".repeat(201) }, "At most 200 characters"],
    ["a working day that is not a time", { workStart: "9am" }, "Enter a time as HH:MM"],
    ["a working day that ends before it starts", { workEnd: "08:30" }, "must end after it starts"],
    [
      "a non-working date that is not a date",
      { holidays: "2024-12-25\n2024-02-30" },
      "“2024-02-30” is not a date",
    ],
  ])("refuses %s, keeps what was typed and saves nothing", async (_name, patch, error) => {
    const { browser, session } = await setUp();
    const typed = settingsForm(session, {
      ...patch,
      hotfixTitlePattern: patch.hotfixTitlePattern ?? "\\burgent\\b",
    }) as Record<string, string>;
    const page = await browser.post(path, typed);
    expect(page.status).toBe(400);
    expect(page.body).toContain(error);
    expect(page.body).toContain("Nothing was saved");
    // What was typed comes back (a select can only show its options).
    for (const [key, value] of Object.entries(patch)) {
      if (key !== "defaultSyncDepth") expect(page.body).toContain(value.slice(0, 50));
    }
    expect(page.body).toContain(typed.hotfixTitlePattern);
    // Not even the valid fields were saved.
    expect(await storedSettings()).toEqual(defaultInstallationSettings);
  });

  it.each<[string, string[], string]>([
    ["no working day", [], "Choose at least one working day."],
    ["a day that is not a weekday", ["1", "8"], "Choose days from the list."],
  ])("refuses %s and saves nothing", async (_name, workDays, error) => {
    const { browser, session } = await setUp();
    const page = await browser.post(path, settingsForm(session, { workDays, workStart: "07:30" }));
    expect(page.status).toBe(400);
    expect(page.body).toContain(error);
    expect(page.body).toContain('value="07:30"');
    expect(await storedSettings()).toEqual(defaultInstallationSettings);
  });

  it("saves new working hours alone, then recomputes the stored durations and the weekly figures", async () => {
    const { browser, session } = await setUp();
    const saved = await browser.post(
      path,
      // Two dates on a line, one twice: stored once each, in order.
      settingsForm(session, {
        workDays: ["2", "1"],
        workStart: "08:00",
        workEnd: "16:00",
        holidays: "2024-03-04, 2023-12-25\n2024-03-04",
      }),
    );
    expect(saved.status).toBe(303);
    expect(await storedSettings()).toMatchObject({
      workDays: [1, 2],
      workStart: "08:00",
      workEnd: "16:00",
      holidays: ["2023-12-25", "2024-03-04"],
    });
    await t.app.drain();
    // Opened Monday 10:00 UTC, a holiday now; merged Tuesday 10:00: two hours of 08:00–16:00.
    const prs = await t.database.db
      .select({
        calendar: schema.pullRequests.cycleTimeHours,
        working: schema.pullRequests.cycleTimeWorkingHours,
      })
      .from(schema.pullRequests)
      .orderBy(schema.pullRequests.id);
    expect(prs).toEqual([1, 2, 3].map(() => ({ calendar: 24, working: 2 })));
    const [week] = await t.database.db
      .select()
      .from(schema.weeklyMetrics)
      .where(eq(schema.weeklyMetrics.repoId, REPO));
    expect(week).toMatchObject({
      weekStart: "2024-03-04",
      medianCycleTimeHours: 24,
      medianCycleTimeWorkingHours: 2,
    });
    const page = await browser.get(path);
    expect(page.body).toContain("Stored pull requests and weekly figures are being recomputed");
    expect(page.body).toContain("Mon, Tue 08:00–16:00 UTC, excluding 2 holidays");
    expect(page.body).toContain("2023-12-25\n2024-03-04</textarea>");
  });

  it("refuses a form without the session's CSRF token", async () => {
    const { browser, session } = await setUp();
    const page = await browser.post(path, {
      ...settingsForm(session, { timezone: "Europe/Berlin" }),
      _csrf: "forged",
    });
    expect(page.status).toBe(403);
    expect((await storedSettings()).timezone).toBe("UTC");
  });

  it("previews new patterns on the latest pull requests without saving them", async () => {
    const { browser, session } = await setUp();
    const page = await browser.post(
      `${path}/preview`,
      settingsForm(session, { revertTitlePattern: "^rollback" }),
    );
    expect(page.status).toBe(200);
    expect(page.body).toMatch(/<strong>1<\/strong> hotfixes and <strong>1<\/strong> reverts/);
    expect(page.body).toContain("Add &lt;b&gt;markup&lt;/b&gt; &amp; more");
    expect((await storedSettings()).revertTitlePattern).toBe("");
  });

  it("saves, then recomputes the stored flags and the weekly figures", async () => {
    const { browser, session } = await setUp();
    const saved = await browser.post(
      path,
      settingsForm(session, {
        hotfixBranchPattern: "^main-fix$",
        revertTitlePattern: "^rollback",
        timezone: "Pacific/Auckland",
      }),
    );
    expect(saved.status).toBe(303);
    expect(await storedSettings()).toMatchObject({
      hotfixBranchPattern: "^main-fix$",
      revertTitlePattern: "^rollback",
      timezone: "Pacific/Auckland",
    });
    await t.app.drain();
    const prs = await t.database.db
      .select({
        id: schema.pullRequests.id,
        hotfix: schema.pullRequests.isHotfix,
        revert: schema.pullRequests.revertPatternMatch,
      })
      .from(schema.pullRequests)
      .orderBy(schema.pullRequests.id);
    expect(prs).toEqual([
      { id: 1, hotfix: false, revert: false },
      { id: 2, hotfix: true, revert: true },
      { id: 3, hotfix: false, revert: false },
    ]);
    const weeks = await t.database.db
      .select()
      .from(schema.weeklyMetrics)
      .where(eq(schema.weeklyMetrics.repoId, REPO));
    // Merged on Tuesday 2024-03-05 in Auckland: the week of Monday the 4th; one hotfix, one revert by pattern.
    expect(weeks.filter((w) => !w.humansOnly)).toEqual([
      expect.objectContaining({
        weekStart: "2024-03-04",
        prsMerged: 3,
        hotfixes: 1,
        reverts: 0,
        revertsWithPattern: 1,
      }),
    ]);
    const page = await browser.get(path);
    expect(page.body).toContain("Settings saved.");
  });
});
