import { afterAll, beforeAll, expect, it } from "@jest/globals";
import * as schema from "../../src/db/schema/index.js";
import { defaultInstallationSettings } from "../../src/settings.js";
import { APP_ID } from "../support/app.js";
import { Browser, type Page } from "../support/browser.js";
import { deliverInstallationCreated } from "../support/delivery-stream.js";
import {
  startFakeGitHub,
  type FakeGitHub,
  type PullRequest,
  type Team,
  type User,
} from "../support/fake-github/index.js";
import { useTestApp } from "../support/harness.js";
import {
  firstReview as firstReviewOf,
  hundredths,
  isBot,
  isoDay,
  median,
  mondayOf,
  submittedReviews,
  WEEK_MS as WEEK,
} from "../support/github-figures.js";
import { csvObjects, table } from "../support/metrics-page.js";
import { signedIn } from "../support/session.js";

// Cut by team, end to end: an organization on the fake GitHub with nested teams, synced by the app
// (backfill, members and teams), and every figure of the metrics page cut by a team, its CSV and
// the teams' review load compared with what the fake GitHub's own data says, computed here from
// scratch: who is in a team (GitHub's Team.members with membership ALL), which review is a first
// review, and how Postgres's percentile_cont and round settle a median.

let github: FakeGitHub;
beforeAll(async () => {
  github = await startFakeGitHub({ seed: 23 });
});
const t = useTestApp(() => ({ env: { GHE_HOST: github.host, GHE_PROTOCOL: "http" } }));
afterAll(async () => {
  await github.close();
});

it("cuts every figure, the CSV and review load by team as GitHub's own data says", async () => {
  const login = "contoso";
  const seeded = github.world.seedOrg({
    login,
    repos: 3,
    prsPerRepo: 70,
    members: 10,
    reviewsPerPr: [1, 4],
    spanDays: 45,
    installationId: 6100,
    appId: Number(APP_ID),
  });
  const world = github.world;
  const [a, b, c, d, e, f, g] = seeded.members as [User, User, User, User, User, User, User];
  const engineering = world.addTeam(login, { name: "Engineering" });
  const backend = world.addTeam(login, { name: "Backend", parentId: engineering.id });
  const data = world.addTeam(login, { name: "Data", parentId: backend.id });
  const frontend = world.addTeam(login, { name: "Frontend", parentId: engineering.id });
  const design = world.addTeam(login, { name: "Design" });
  for (const [team, users] of [
    [engineering, [a]],
    [backend, [b, c]],
    [data, [d, c]],
    [frontend, [e]],
    [design, [f, g, a]],
  ] as [Team, User[]][]) {
    for (const user of users) world.addTeamMember(team.id, user.id);
  }
  await t.database.db.insert(schema.installations).values({
    id: seeded.installation.id,
    accountId: seeded.org.id,
    accountLogin: login,
    accountType: "Organization",
    settings: { ...defaultInstallationSettings, defaultSyncDepth: "full" },
  });
  await deliverInstallationCreated(t.app, world, seeded.installation.id);
  await t.app.drain(undefined, 120_000);

  // ---- the truth, from the fake GitHub ----------------------------------------------------
  const thisWeek = mondayOf(Date.now());
  const from = thisWeek - 5 * WEEK;
  const to = thisWeek + WEEK;
  const inRange = (at: string | null) => at !== null && Date.parse(at) >= from && Date.parse(at) < to;
  const weekOf = (at: string) => isoDay(mondayOf(Date.parse(at)));
  const everyoneIn = (team: Team) =>
    new Set([team, ...world.descendantsOf(team.id)].flatMap((member) => member.memberIds));
  const prs = seeded.repos
    .flatMap((repo) => world.listPullRequests(repo.id))
    .filter((pr) => !isBot(world, pr.authorId));
  const reviewsOf = (pr: PullRequest) => submittedReviews(world, pr);
  const firstReview = (pr: PullRequest) => firstReviewOf(world, pr);

  // ---- the metrics page and its CSV, cut by Backend (Data's members included) ----------------
  const session = await signedIn(t.database, t.app.server, { installationIds: [seeded.installation.id] });
  const browser = new Browser(t.app.url, session.cookie);
  const query = `range=custom&from=${isoDay(from)}&to=${isoDay(thisWeek)}&team=${backend.id}`;
  const page = await browser.get(`/installations/${seeded.installation.id}/metrics?${query}`);
  expect(page.status).toBe(200);
  const shown = table(page);
  const members = everyoneIn(backend);
  expect([...members].sort()).toEqual([b.id, c.id, d.id].sort());
  const ours = prs.filter((pr) => members.has(pr.authorId));
  const weeks = Array.from({ length: 6 }, (_, index) => isoDay(from + index * WEEK));
  const expected = (which: (at: string) => boolean) => {
    const opened = ours.filter((pr) => which(pr.createdAt));
    const merged = ours.filter((pr) => pr.mergedAt !== null && which(pr.mergedAt));
    const reviewed = ours.filter((pr) => {
      const first = firstReview(pr);
      return first !== null && which(first.submittedAt!);
    });
    return {
      opened: String(opened.length),
      merged: String(merged.length),
      cycle: median(merged.map((pr) => hundredths(pr.createdAt, pr.mergedAt!))),
      review: median(reviewed.map((pr) => hundredths(pr.createdAt, firstReview(pr)!.submittedAt!))),
    };
  };
  const seen = (week: string) => ({
    opened: shown.rows[week]!.opened,
    merged: shown.rows[week]!.merged,
    cycle: shown.exact[week]!.cycle ?? null,
    review: shown.exact[week]!["review-time"] ?? null,
  });
  for (const week of weeks) {
    expect([week, seen(week)]).toEqual([week, expected((at) => weekOf(at) === week)]);
  }
  expect(seen("total")).toEqual(expected(inRange));
  expect(ours.filter((pr) => inRange(pr.mergedAt)).length).toBeGreaterThan(5);

  const slugsOf = (userId: number) =>
    world
      .teamsOf(seeded.org.id)
      .filter((team) => everyoneIn(team).has(userId))
      .map((team) => team.slug)
      .sort()
      .join(" ");
  const csv = csvObjects(
    (await browser.get(`/installations/${seeded.installation.id}/metrics.csv?${query}`)).body,
  );
  const exported = ours.filter(
    (pr) =>
      inRange(pr.createdAt) ||
      inRange(pr.mergedAt) ||
      inRange(pr.closedAt) ||
      inRange(firstReview(pr)?.submittedAt ?? null),
  );
  const repoName = (pr: PullRequest) => `${login}/${world.getRepo(pr.repoId)!.name}`;
  expect(csv.map((row) => `${row.repository}#${row.number} ${row.teams}`).sort()).toEqual(
    exported.map((pr) => `${repoName(pr)}#${pr.number} ${slugsOf(pr.authorId)}`).sort(),
  );
  expect(new Set(csv.map((row) => row.teams))).toEqual(
    new Set(["backend engineering", "backend data engineering"]),
  );

  // ---- review load of every team over the range -------------------------------------------
  const teamsPage: Page = await browser.get(
    `/installations/${seeded.installation.id}/teams?range=custom&from=${isoDay(from)}&to=${isoDay(thisWeek)}`,
  );
  expect(teamsPage.status).toBe(200);
  const load: Record<string, Record<string, string | null>> = {};
  for (const [, id, cells] of teamsPage.body.matchAll(/<tr data-team="([^"]+)"[^>]*>([\s\S]*?)<\/tr>/g)) {
    load[id!] = Object.fromEntries(
      [...cells!.matchAll(/<td class="num" data-metric="([^"]+)"(?: title="([^"]+)")?>([^<]*)<\/td>/g)].map(
        ([, metric, title, text]) => [metric!, metric === "first-review-time" ? (title ?? null) : text!],
      ),
    );
  }
  for (const team of world.teamsOf(seeded.org.id)) {
    const reviewers = everyoneIn(team);
    const given = prs
      .flatMap((pr) => reviewsOf(pr))
      .filter((r) => inRange(r.submittedAt) && reviewers.has(r.authorId));
    const firsts = prs.filter((pr) => {
      const first = firstReview(pr);
      return first !== null && inRange(first.submittedAt) && reviewers.has(first.authorId);
    });
    const shown = load[team.id]!;
    expect({
      team: team.name,
      reviews: shown.reviews,
      reviewers: shown.reviewers,
      "first-reviews": shown["first-reviews"],
      "first-review-time": shown["first-review-time"],
    }).toEqual({
      team: team.name,
      reviews: String(given.length),
      reviewers: String(new Set(given.map((r) => r.authorId)).size),
      "first-reviews": String(firsts.length),
      "first-review-time": median(
        firsts.map((pr) => hundredths(pr.createdAt, firstReview(pr)!.submittedAt!)),
      ),
    });
    expect(given.length).toBeGreaterThan(0);
  }
}, 180_000);
