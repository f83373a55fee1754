/**
 * `npm run demo`: PR Pulse against a fake GitHub Enterprise Server, with data flowing in.
 *
 * 1. Start the fake GitHub on 127.0.0.1 with an org (acme: 5 repositories × 200 pull requests, teams
 *    nested two deep) and a demo user who administers it.
 * 2. Start the built app exactly as `npm start` does (node dist/src/main.js) with an embedded
 *    Postgres in .data/demo-postgres; .env is neither read nor written.
 * 3. Deliver a signed installation.created: the app stores the installation, backfills, syncs members.
 * 4. Every ~10 s open, review or merge a pull request in the fake and deliver its webhook.
 * Ctrl-C stops the app, the fake and the timers.
 *
 *   npm run demo                      # until Ctrl-C
 *   npm run demo -- --seconds 60      # stops by itself (smoke runs)
 */
import { spawn, type ChildProcess } from "node:child_process";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import { parseArgs } from "node:util";
import { buildWebhook, deliverWebhook, startFakeGitHub } from "./fake-github/index.js";
import { waitFor } from "./wait.js";
import type { FakeGitHub, PullRequest, Repo, User, Webhook } from "./fake-github/index.js";

const { values } = parseArgs({
  options: {
    /** The fake GitHub's port; 0 picks a free one. */
    "github-port": { type: "string", default: "0" },
    /** Seconds between simulated events. */
    interval: { type: "string", default: "10" },
    /** Stop by itself after this many seconds (default: run until Ctrl-C). */
    seconds: { type: "string" },
    /** Keep .data/demo-postgres from the previous run instead of starting from an empty database. */
    "keep-data": { type: "boolean", default: false },
    /** The app's info logs (JSON) instead of warnings only. */
    verbose: { type: "boolean", default: false },
  },
});

const APP_PORT = 3000;
const APP_URL = `http://127.0.0.1:${APP_PORT}`;
const BROWSER_URL = `http://localhost:${APP_PORT}`;
const APP_ID = 1;
const ORG = "acme";
const DATA_DIR = ".data/demo-postgres";
/** Small but visible: every API call takes at least this long, like a nearby GHES. */
const LATENCY = { baseMs: 30, perNodeMs: 0.1 };
/** A first start initialises Postgres and runs the migrations: allow for a slow disk. */
const READY_TIMEOUT_MS = 120_000;
/** main.ts stops the server, the workers (10 s grace) and Postgres; then it is killed. */
const STOP_TIMEOUT_MS = 20_000;

const TITLES = [
  "Add retry logic to the billing webhooks",
  "Fix pagination in the search API",
  "Speed up the invoices export",
  "Hotfix: null check in checkout",
  "Refactor notification settings",
  "Harden token validation in auth",
  "Document the scheduler config",
];

const WEBHOOK_SECRET = `demo-${randomBytes(8).toString("hex")}`;

const say = (message: string) => console.log(`[demo] ${message}`);

/** Set once the app runs: stops it, the fake and the timers, then exits. */
let shutdown: ((code: number) => Promise<void>) | undefined;

/** The fake GitHub and the world the demo plays in. */
async function startGitHub() {
  const github = await startFakeGitHub({ port: Number(values["github-port"]), seed: 1, latency: LATENCY });
  // 90 days of history: the default 30-day backfill brings a third; a deeper sync depth the rest.
  const seeded = github.world.seedOrg({
    login: ORG,
    repos: 5,
    prsPerRepo: 200,
    members: 12,
    spanDays: 90,
    appId: APP_ID,
  });
  const admin = seeded.members[0]!;
  github.oauth.setRole(ORG, admin.login, "admin");
  github.oauth.signInAs(admin.login);
  seedTeams(github, seeded.members);
  return { github, ...seeded, admin };
}

/** Engineering ⊃ Platform ⊃ Infra, Engineering ⊃ Product, and Design: the 12 members spread over them. */
function seedTeams(github: FakeGitHub, members: User[]): void {
  const world = github.world;
  const engineering = world.addTeam(ORG, { name: "Engineering", description: "Everyone who ships code" });
  const platform = world.addTeam(ORG, { name: "Platform", parentId: engineering.id });
  const infra = world.addTeam(ORG, { name: "Infra", parentId: platform.id });
  const product = world.addTeam(ORG, { name: "Product", parentId: engineering.id });
  const design = world.addTeam(ORG, { name: "Design" });
  const places = [engineering, platform, platform, infra, infra, product, product, product, design, design];
  members.forEach((member, index) => world.addTeamMember(places[index % places.length]!.id, member.id));
}

function appEnv(github: FakeGitHub): NodeJS.ProcessEnv {
  const { clientId, clientSecret } = github.oauth.credentials(APP_ID);
  const privateKey = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({
    type: "pkcs1",
    format: "pem",
  }) as string;
  // Only the system's own variables: nothing from a developer's shell configures the demo app.
  const inherited = Object.fromEntries(
    ["PATH", "HOME", "USER", "LANG", "TZ", "TMPDIR"].flatMap((key) =>
      process.env[key] === undefined ? [] : [[key, process.env[key]]],
    ),
  );
  return {
    ...inherited,
    NODE_ENV: "development",
    // A path that does not exist: .env is not read, and nothing is ever written to it.
    ENV_FILE: ".data/demo.env",
    GHE_HOST: github.host,
    GHE_PROTOCOL: "http",
    APP_ID: String(APP_ID),
    PRIVATE_KEY: privateKey,
    WEBHOOK_SECRET: WEBHOOK_SECRET,
    GITHUB_CLIENT_ID: clientId,
    GITHUB_CLIENT_SECRET: clientSecret,
    BASE_URL: BROWSER_URL,
    PORT: String(APP_PORT),
    HOST: "127.0.0.1",
    EMBEDDED_POSTGRES_DIR: DATA_DIR,
    EMBEDDED_POSTGRES_PORT: "54330",
    SESSION_SECRET: randomBytes(32).toString("hex"),
    LOG_LEVEL: values.verbose ? "info" : "warn",
  };
}

async function isUp(url: string): Promise<boolean> {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(1000) })).ok;
  } catch {
    return false;
  }
}

async function waitUntilReady(app: ChildProcess): Promise<void> {
  await waitFor(
    async () => {
      if (app.exitCode !== null) throw new Error(`the app exited with code ${app.exitCode} while starting`);
      return isUp(`${APP_URL}/readyz`);
    },
    { timeoutMs: READY_TIMEOUT_MS, intervalMs: 500, what: "the app to be ready" },
  );
}

/** The simulated team: a new pull request, a review, a merge, in turn. */
function createActivity(github: FakeGitHub, repos: Repo[], members: User[]) {
  const world = github.world;
  let tick = 0;
  const opened: PullRequest[] = [];
  const pick = <T>(items: T[]): T => items[Math.floor(Math.random() * items.length)]!;
  const name = (pr: PullRequest) => `${world.getRepo(pr.repoId)?.name ?? "?"}#${pr.number}`;

  return (): { webhook: Webhook; line: string } => {
    const step = tick++ % 3;
    const candidates = opened.filter((pr) => pr.state === "OPEN");
    if (step === 0 || candidates.length === 0) {
      const author = pick(members);
      const pr = world.createPullRequest(pick(repos).id, {
        authorId: author.id,
        title: pick(TITLES),
        headRef: `feature/demo-${tick}`,
      });
      world.addCommit(pr.id, { authorUserId: author.id, message: "First cut" });
      world.addCommit(pr.id, { authorUserId: author.id, message: "Tests" });
      opened.push(pr);
      return {
        webhook: buildWebhook(world, "pull_request", "opened", { prId: pr.id }, github.urls),
        line: `${author.login} opened ${name(pr)} "${pr.title}"`,
      };
    }
    const pr = candidates[0]!;
    if (step === 1) {
      const reviewer = pick(members.filter((member) => member.id !== pr.authorId));
      const review = world.addReview(pr.id, { authorId: reviewer.id, state: "APPROVED", body: "LGTM" });
      return {
        webhook: buildWebhook(
          world,
          "pull_request_review",
          "submitted",
          { prId: pr.id, reviewId: review.id },
          github.urls,
        ),
        line: `${reviewer.login} approved ${name(pr)}`,
      };
    }
    world.mergePullRequest(pr.id);
    return {
      webhook: buildWebhook(world, "pull_request", "closed", { prId: pr.id }, github.urls),
      line: `${name(pr)} merged`,
    };
  };
}

async function deliver(github: FakeGitHub, webhook: Webhook): Promise<number> {
  const { status } = await deliverWebhook(
    {
      url: `${APP_URL}/api/github/webhooks`,
      secret: WEBHOOK_SECRET,
      name: webhook.name,
      id: webhook.id,
      payload: webhook.payload,
      appId: APP_ID,
    },
    { world: github.world },
  );
  return status;
}

async function main(): Promise<void> {
  if (await isUp(`${APP_URL}/healthz`)) {
    throw new Error(`something already answers on port ${APP_PORT}; stop it and run the demo again`);
  }
  if (!values["keep-data"]) rmSync(DATA_DIR, { recursive: true, force: true });

  // 1. The fake GitHub.
  const { github, installation, repos, members, admin } = await startGitHub();
  say(`fake GitHub on ${github.url}: org ${ORG}, ${repos.length} repositories × 200 pull requests`);

  // 2. The app, as `npm start` runs it.
  const app = spawn(process.execPath, ["dist/src/main.js"], {
    env: appEnv(github),
    stdio: ["ignore", "inherit", "inherit"],
  });
  const timers: NodeJS.Timeout[] = [];
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    for (const timer of timers) clearTimeout(timer);
    say("stopping");
    if (app.exitCode === null) {
      const exited = new Promise((resolve) => app.once("exit", resolve));
      app.kill("SIGTERM");
      const killer = setTimeout(() => app.kill("SIGKILL"), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(killer);
    }
    await github.close();
    process.exit(code);
  };
  shutdown = stop;
  // Ctrl-C reaches the app too (same process group); stop() waits for it to shut down cleanly.
  process.on("SIGINT", () => void stop(0));
  process.on("SIGTERM", () => void stop(0));
  app.once("exit", (code) => {
    if (!stopping) {
      say(`the app exited (code ${code ?? "signal"})`);
      void stop(1);
    }
  });
  if (values.seconds !== undefined)
    timers.push(setTimeout(() => void stop(0), Number(values.seconds) * 1000));

  say("starting PR Pulse (node dist/src/main.js) with an embedded Postgres in .data/demo-postgres");
  await waitUntilReady(app);

  // 3. The App is installed on acme.
  const installed = buildWebhook(
    github.world,
    "installation",
    "created",
    {
      installationId: installation.id,
      senderId: admin.id,
    },
    github.urls,
  );
  say(`installation.created delivered: HTTP ${await deliver(github, installed)}`);
  console.log(`
  PR Pulse is running at ${BROWSER_URL}

  Open ${BROWSER_URL} and click "Sign in with GitHub": the fake GitHub signs you in at once
  as ${admin.login}, an admin of ${ORG}. The backfill of the last 30 days (the default depth)
  starts now; the fake holds 90 days, so a deeper sync depth would bring in the rest.

  Every ${values.interval} s a pull request is opened, reviewed or merged in ${ORG} and its signed
  webhook delivered. Ctrl-C stops everything.
`);

  // 4. Activity.
  const next = createActivity(github, repos, members);
  timers.push(
    setInterval(
      () => {
        const { webhook, line } = next();
        deliver(github, webhook)
          .then((status) => say(`${line} → ${webhook.name} delivered (HTTP ${status})`))
          .catch((error: unknown) => say(`${line} → delivery failed: ${(error as Error).message}`));
      },
      Number(values.interval) * 1000,
    ),
  );
}

main().catch((error: unknown) => {
  console.error(`[demo] ${(error as Error).message}`);
  if (shutdown) void shutdown(1);
  else process.exit(1);
});
