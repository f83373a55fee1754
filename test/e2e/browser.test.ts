import { mkdir } from "node:fs/promises";
import { createServer, type AddressInfo } from "node:net";
import { afterAll, beforeAll, expect, it } from "@jest/globals";
import { chromium, type Browser, type Page } from "playwright-core";
import * as schema from "../../src/db/schema/index.js";
import { defaultInstallationSettings } from "../../src/settings.js";
import { APP_ID, startTestApp, WEBHOOK_SECRET, type TestApp } from "../support/app.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import {
  buildWebhook,
  deliverWebhook,
  startFakeGitHub,
  type FakeGitHub,
} from "../support/fake-github/index.js";

// A new admin in a real browser (Debian's chromium, driven by playwright-core) against the app
// wired to the fake GitHub as a GHES: sign in through the OAuth flow, track repositories, watch the
// backfill, go further back with an estimate first, change a pattern. A screenshot of every page
// goes to test/screenshots/ (not committed) to be looked at.

const CHROMIUM = "/usr/bin/chromium";
const SCREENSHOTS = "test/screenshots";

let database: TestDatabase;
let github: FakeGitHub;
let app: TestApp;
let browser: Browser;
let page: Page;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function shot(name: string) {
  await page.screenshot({ path: `${SCREENSHOTS}/${name}.png`, fullPage: true });
}

beforeAll(async () => {
  await mkdir(SCREENSHOTS, { recursive: true });
  database = await createTestDatabase();
  github = await startFakeGitHub({ seed: 31 });
  const port = await freePort();
  const { clientId, clientSecret } = github.oauth.credentials(Number(APP_ID));
  app = await startTestApp(database, {
    env: {
      GHE_HOST: github.host,
      GHE_PROTOCOL: "http",
      GITHUB_CLIENT_ID: clientId,
      GITHUB_CLIENT_SECRET: clientSecret,
      PORT: String(port),
      BASE_URL: `http://127.0.0.1:${port}`,
    },
  });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
  });
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await app?.stop();
  await github?.close();
  await database?.drop();
});

it("takes a new admin from sign-in to synced repositories and new patterns", async () => {
  // An organization on GitHub with the App installed; its admin is the browser's user.
  const seeded = github.world.seedOrg({
    login: "northwind",
    repos: 4,
    prsPerRepo: 60,
    members: 5,
    spanDays: 120,
    appId: Number(APP_ID),
  });
  const admin = seeded.members[0]!;
  github.oauth.setRole("northwind", admin.login, "admin");
  github.oauth.signInAs(admin.login);
  // Auto-tracking off, so the admin chooses the repositories.
  await database.db.insert(schema.installations).values({
    id: seeded.installation.id,
    accountId: seeded.org.id,
    accountLogin: "northwind",
    accountType: "Organization",
    settings: { ...defaultInstallationSettings, autoTrackNewRepos: false },
  });
  const hook = buildWebhook(
    github.world,
    "installation",
    "created",
    { installationId: seeded.installation.id },
    github.urls,
  );
  const delivered = await deliverWebhook({
    url: `${app.url}/api/github/webhooks`,
    secret: WEBHOOK_SECRET,
    name: hook.name,
    id: hook.id,
    payload: hook.payload,
    appId: Number(APP_ID),
  });
  expect(delivered.status).toBe(202);
  await app.drain();

  // 1. Sign in with GitHub.
  await page.goto(app.url);
  await shot("01-sign-in");
  await page.getByRole("link", { name: "Sign in with GitHub" }).click();
  await page.waitForURL(`${app.url}/`);
  await expect(page.getByRole("heading", { name: "Installations" }).isVisible()).resolves.toBe(true);
  await shot("02-installations");

  // 2. The repositories: track two of them, after the estimate.
  await page.getByRole("link", { name: "northwind", exact: true }).click();
  await page.waitForURL(/\/repositories$/);
  expect(await page.locator(".repo-name").count()).toBe(4);
  await shot("03-repositories");
  const [first, second] = seeded.repos;
  await page.getByLabel(`Select northwind/${first!.name}`).check();
  await page.getByLabel(`Select northwind/${second!.name}`).check();
  await page.getByRole("button", { name: "Track", exact: true }).click();
  await page.getByRole("heading", { name: "Track 2 repositories?" }).waitFor();
  await expect(page.getByText("Pull requests to fetch").isVisible()).resolves.toBe(true);
  await shot("04-track-estimate");
  await page.getByRole("button", { name: "Start syncing" }).click();
  await page.getByText("2 repositories are now tracked").waitFor();

  // 3. The backfill runs; the rows refresh themselves until both are up to date at 100%.
  const firstRow = page.locator("tr", { hasText: `northwind/${first!.name}` });
  const secondRow = page.locator("tr", { hasText: `northwind/${second!.name}` });
  await firstRow.getByText("Up to date").waitFor({ timeout: 60_000 });
  await secondRow.getByText("Up to date").waitFor({ timeout: 60_000 });
  await expect(firstRow.locator("progress").getAttribute("value")).resolves.toBe("100");
  await shot("05-synced");

  // 4. Further back for one repository: the estimate comes first.
  await firstRow.getByLabel(`Sync depth of northwind/${first!.name}`).selectOption("90d");
  await page.getByRole("heading", { name: `Sync northwind/${first!.name} further back?` }).waitFor();
  await shot("06-depth-estimate");
  await page.getByRole("button", { name: "Sync 90 days" }).click();
  await page.getByText("now syncs 90 days").waitFor();
  await firstRow.getByText("Up to date").waitFor({ timeout: 60_000 });

  // 5. A new hotfix pattern: preview it, save it, and the stored flags follow.
  await page.getByRole("link", { name: "Settings" }).click();
  await page.getByLabel("Hotfix title pattern").fill("\\b(fix|hotfix)\\b");
  await page.getByRole("button", { name: /Preview on the last/ }).click();
  await page.locator("#preview").waitFor();
  await shot("07-settings-preview");
  await page.getByRole("button", { name: "Save settings" }).click();
  await page.getByText("Settings saved.").waitFor();
  await shot("08-settings-saved");
  await app.drain();
  const stored = await database.db
    .select({
      title: schema.pullRequests.title,
      headRef: schema.pullRequests.headRef,
      hotfix: schema.pullRequests.isHotfix,
    })
    .from(schema.pullRequests);
  const expected = (pr: { title: string; headRef: string }) =>
    /^(hotfix|hot-fix)[/-]/i.test(pr.headRef) || /\b(fix|hotfix)\b/i.test(pr.title);
  expect(stored.map((pr) => pr.hotfix)).toEqual(stored.map(expected));
  // The new pattern changed something: pull requests titled "fix" but not "hotfix" are hotfixes now.
  expect(
    stored.filter(
      (pr) => pr.hotfix && !/\bhotfix\b/i.test(pr.title) && !/^(hotfix|hot-fix)[/-]/i.test(pr.headRef),
    ).length,
  ).toBeGreaterThan(0);
}, 180_000);
