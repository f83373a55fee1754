import { afterAll, beforeAll, beforeEach, describe, expect, it } from "@jest/globals";
import { APP_ID } from "./support/app.js";
import { deliverInstallationCreated } from "./support/delivery-stream.js";
import { buildWebhook, startFakeGitHub, type FakeGitHub } from "./support/fake-github/index.js";
import { useTestApp } from "./support/harness.js";

// The installations stored here are GitHub's: an uninstall is believed when GitHub confirms it,
// and an installation whose events were lost or refused still appears, from GitHub's own list of
// the App's installations. The app runs against the fake GitHub; the sync jobs an installation
// starts stay queued (what they do is tested elsewhere), so each test sees what was started.

let github: FakeGitHub;
const appId = Number(APP_ID);

beforeAll(async () => {
  github = await startFakeGitHub({ seed: 71 });
  github.world.addApp({ id: appId });
});
afterAll(async () => {
  await github.close();
});
const t = useTestApp(() => ({
  env: { GHE_HOST: github.host, GHE_PROTOCOL: "http" },
  queues: ["processWebhook", "confirmInstallation", "reconcileInstallations"],
}));

// Each test starts from a GitHub where the App is installed nowhere.
beforeEach(() => {
  for (const id of [...github.world.installations.keys()]) github.world.removeInstallation(id);
});

let nextId = 8100;
/** An organization with the App installed on GitHub (one repository, no pull requests). */
function installOnGitHub(options: { suspended?: boolean } = {}) {
  const id = nextId++;
  const org = github.world.addOrg({ login: `org-${id}` });
  const installation = github.world.addInstallation({
    id,
    appId,
    accountId: org.id,
    repositorySelection: "all",
    ...options,
  });
  github.world.addRepo(id, { name: `repo-${id}` });
  return installation;
}

const storedInstallations = () =>
  t.database.sql<
    {
      id: string;
      account_login: string;
      deleted_at: Date | null;
      suspended_at: Date | null;
      updated_at: Date;
    }[]
  >`select id, account_login, deleted_at, suspended_at, updated_at from installations order by id`;

async function queuedFor(queue: string): Promise<number[]> {
  return (await t.app.jobs(queue)).map((job) => job.data.installationId as number).sort();
}

async function deliverDeleted(installationId: number) {
  const hook = buildWebhook(github.world, "installation", "deleted", { installationId });
  expect((await t.app.deliver(hook.name, hook.payload, { id: hook.id })).status).toBe(202);
  await t.app.drain(["process-webhook", "confirm-installation"]);
}

describe("installation.deleted", () => {
  it("marks the installation deleted once GitHub answers 404 for it, and stops its nightly sync", async () => {
    const installation = installOnGitHub();
    await deliverInstallationCreated(t.app, github.world, installation.id);
    await t.app.drain(["process-webhook"]);
    await t.app.boss.schedule(
      "delta-sync",
      "0 2 * * *",
      { installationId: installation.id },
      {
        key: String(installation.id),
      },
    );

    github.world.removeInstallation(installation.id);
    await deliverDeleted(installation.id);

    const [stored] = await storedInstallations();
    expect(stored!.deleted_at).not.toBeNull();
    expect(await t.database.sql`select key from pgboss.schedule where name = 'delta-sync'`).toEqual([]);
    expect(await t.app.jobs("confirm-installation")).toEqual([
      { data: { installationId: installation.id }, state: "completed" },
    ]);
  });

  it("replayed while the installation is still installed, changes nothing", async () => {
    const installation = installOnGitHub();
    await deliverInstallationCreated(t.app, github.world, installation.id);
    await t.app.drain(["process-webhook"]);
    const before = await storedInstallations();

    await deliverDeleted(installation.id);

    expect(await storedInstallations()).toEqual(before);
    expect(before[0]!.deleted_at).toBeNull();
    const [job] = await t.database.sql<{ output: unknown }[]>`
      select output from pgboss.job where name = 'confirm-installation'`;
    expect(job!.output).toEqual({ installation: "still_installed" });
  });
});

describe("reconciliation with GitHub's list of the App's installations", () => {
  it("starts those missing here, restores one wrongly marked deleted, follows suspensions, and marks deleted only what GitHub confirms gone", async () => {
    const known = installOnGitHub();
    const missed = installOnGitHub();
    const wronglyDeleted = installOnGitHub();
    const suspendedThere = installOnGitHub();
    const uninstalled = installOnGitHub();
    for (const installation of [known, wronglyDeleted, suspendedThere, uninstalled]) {
      await deliverInstallationCreated(t.app, github.world, installation.id);
    }
    await t.app.drain(["process-webhook"]);
    await t.database.sql`update installations set deleted_at = now() where id = ${wronglyDeleted.id}`;
    github.world.suspendInstallation(suspendedThere.id);
    github.world.removeInstallation(uninstalled.id);
    await t.database.sql`delete from pgboss.job`;
    const knownBefore = (await storedInstallations()).find((row) => Number(row.id) === known.id);

    await t.app.boss.send("reconcile-installations", {});
    await t.app.drain(["reconcile-installations"]);

    const stored = new Map((await storedInstallations()).map((row) => [Number(row.id), row]));
    expect(stored.get(known.id)).toEqual(knownBefore);
    expect(stored.get(missed.id)).toMatchObject({ account_login: `org-${missed.id}`, deleted_at: null });
    expect(stored.get(wronglyDeleted.id)!.deleted_at).toBeNull();
    expect(stored.get(suspendedThere.id)!.suspended_at).not.toBeNull();
    expect(stored.get(uninstalled.id)!.deleted_at).not.toBeNull();
    // Started as installation.created starts one: repository listing (and with it the nightly
    // sync) and members.
    expect(await queuedFor("sync-repositories")).toEqual([missed.id, wronglyDeleted.id]);
    expect(await queuedFor("members-sync")).toEqual([missed.id, wronglyDeleted.id]);
  });

  it("an unsuspend GitHub shows resumes the installation", async () => {
    const installation = installOnGitHub({ suspended: true });
    await t.app.boss.send("reconcile-installations", {});
    await t.app.drain(["reconcile-installations"]);
    expect((await storedInstallations())[0]!.suspended_at).not.toBeNull();

    github.world.unsuspendInstallation(installation.id);
    await t.database.sql`delete from pgboss.job`;
    await t.app.boss.send("reconcile-installations", {});
    await t.app.drain(["reconcile-installations"]);
    expect((await storedInstallations())[0]!.suspended_at).toBeNull();
    expect(await queuedFor("sync-repositories")).toEqual([installation.id]);
  });
});
