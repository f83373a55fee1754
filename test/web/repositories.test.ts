import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { eq } from "drizzle-orm";
import * as schema from "../../src/db/schema/index.js";
import { APP_ID } from "../support/app.js";
import { Browser } from "../support/browser.js";
import { startFakeGitHub, type FakeGitHub } from "../support/fake-github/index.js";
import { useTestApp } from "../support/harness.js";
import { signedIn } from "../support/session.js";

// The repositories page against the fake GitHub (membership checks, estimates) with every worker.

let github: FakeGitHub;
beforeAll(async () => {
  github = await startFakeGitHub({ seed: 21 });
});
const t = useTestApp(() => ({ env: { GHE_HOST: github.host, GHE_PROTOCOL: "http" }, queues: [] }));
afterAll(async () => {
  await github.close();
});

async function seedInstallation() {
  const seeded = github.world.seedOrg({
    login: "acme",
    repos: 3,
    prsPerRepo: 20,
    members: 3,
    appId: Number(APP_ID),
  });
  const admin = seeded.members[0]!;
  github.oauth.setRole("acme", admin.login, "admin");
  await t.database.db.insert(schema.installations).values({
    id: seeded.installation.id,
    accountId: seeded.org.id,
    accountLogin: "acme",
    accountType: "Organization",
  });
  await t.database.db.insert(schema.repositories).values(
    seeded.repos.map((repo, index) => ({
      id: repo.id,
      installationId: seeded.installation.id,
      nodeId: repo.nodeId,
      fullName: `acme/${repo.name}`,
      tracked: index === 0,
      syncStatus: index === 0 ? ("complete" as const) : ("pending" as const),
    })),
  );
  return { ...seeded, admin };
}

describe("repositories page", () => {
  it("lists the repositories for an admin", async () => {
    const { installation, admin, repos } = await seedInstallation();
    const session = await signedIn(t.database, t.app.server, {
      userId: admin.id,
      login: admin.login,
      installationIds: [installation.id],
    });
    const browser = new Browser(t.app.url, session.cookie);
    const page = await browser.get(`/installations/${installation.id}/repositories`);
    expect(page.status).toBe(200);
    for (const repo of repos) expect(page.body).toContain(`acme/${repo.name}`);
    const [row] = await t.database.db
      .select()
      .from(schema.repositories)
      .where(eq(schema.repositories.id, repos[0]!.id));
    expect(row!.tracked).toBe(true);
  });
});
