import { readFileSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "@jest/globals";
import dotenv from "dotenv";
import nock from "nock";
import { ConfigError, loadConfig, type Config } from "../../src/config.js";
import { startRuntime, type Runtime } from "../../src/runtime.js";
import { WEBHOOK_PATH } from "../../src/server.js";
import { isSetupTokenRequired, setupToken } from "../../src/web/setup-token.js";
import { testPrivateKey } from "../support/app.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { captureLog, type CapturedLog } from "../support/log-capture.js";
import { waitFor } from "../support/wait.js";

// Setup mode as `npm start` runs it without credentials: the runtime, its log, and browsers that
// keep cookies. The server listens on 127.0.0.1 but its BASE_URL is public, as behind a reverse
// proxy: anyone may reach it, so nothing may be done without the link printed in the log.

const SESSION_SECRET = "s".repeat(40);
const PUBLIC_URL = "http://pr-pulse.example.test";
const REGISTERED_APP_ID = 777;

let database: TestDatabase;
let workDir: string;
const running: Runtime[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  workDir = await mkdtemp(path.join(os.tmpdir(), "pr-pulse-setup-"));
  nock.disableNetConnect();
  nock.enableNetConnect("127.0.0.1");
});
afterAll(async () => {
  await database.drop();
  await rm(workDir, { recursive: true, force: true });
  nock.enableNetConnect();
  nock.restore();
});
beforeEach(async () => {
  await database.sql`delete from app_state`;
  nock.cleanAll();
});
afterEach(async () => {
  for (const runtime of running.splice(0)) await runtime.stop();
  expect(nock.pendingMocks()).toEqual([]);
});

interface SetupApp {
  runtime: Runtime;
  captured: CapturedLog;
  envFile: string;
  /** The link the log printed, pointed at the listening server instead of BASE_URL. */
  link(): string;
}

let nextEnvFile = 0;

async function startSetupMode(
  env: Record<string, string> = {},
  reloadConfig?: (fromEnvFile: () => Config) => Config,
): Promise<SetupApp> {
  const envFile = path.join(workDir, `env-${nextEnvFile++}`);
  const baseEnv = {
    DATABASE_URL: database.url,
    HOST: "127.0.0.1",
    PORT: "0",
    BASE_URL: PUBLIC_URL,
    SESSION_SECRET,
    ENV_FILE: envFile,
    ...env,
  };
  const fromEnvFile = () => loadConfig({ ...baseEnv, ...dotenv.parse(readFileSync(envFile, "utf8")) });
  const captured = captureLog();
  const runtime = await startRuntime({
    config: loadConfig(baseEnv),
    log: captured.log,
    queues: [],
    reloadConfig: () => (reloadConfig ? reloadConfig(fromEnvFile) : fromEnvFile()),
  });
  running.push(runtime);
  return {
    runtime,
    captured,
    envFile,
    link() {
      const line = captured.lines.find((entry) => entry.setupUrl);
      if (!line) throw new Error("no setup link in the log");
      const printed = new URL(line.setupUrl as string);
      return `${runtime.url}${printed.pathname}${printed.search}`;
    },
  };
}

/** A browser: keeps the cookies it is given, follows no redirect by itself. */
class Browser {
  readonly cookies = new Map<string, string>();
  readonly setCookies: string[] = [];

  async get(url: string, headers: Record<string, string> = {}) {
    const cookie = [...this.cookies].map(([name, value]) => `${name}=${value}`).join("; ");
    const response = await fetch(url, {
      redirect: "manual",
      headers: { ...headers, ...(cookie ? { cookie } : {}) },
    });
    for (const header of response.headers.getSetCookie()) {
      this.setCookies.push(header);
      const [pair = ""] = header.split(";");
      const name = pair.slice(0, pair.indexOf("="));
      const value = pair.slice(pair.indexOf("=") + 1);
      if (value === "" || /max-age=0/i.test(header)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return {
      status: response.status,
      location: response.headers.get("location"),
      text: await response.text(),
    };
  }

  /** Opens the setup link, then the setup page; returns the manifest flow's state from the form. */
  async startRegistration(app: SetupApp): Promise<string> {
    const opened = await this.get(app.link());
    expect(opened).toMatchObject({ status: 303, location: "/" });
    const page = await this.get(`${app.runtime.url}/`);
    expect(page.status).toBe(200);
    const state = /settings\/apps\/new\?state=([0-9a-f]+)/.exec(page.text)?.[1];
    if (!state) throw new Error("no state in the setup form");
    return state;
  }
}

function conversion(times = 1) {
  return nock("https://api.github.com")
    .post(/^\/app-manifests\/[\w-]+\/conversions$/)
    .times(times)
    .reply(201, {
      id: REGISTERED_APP_ID,
      slug: "pr-pulse-test",
      html_url: "https://github.com/apps/pr-pulse-test",
      pem: testPrivateKey(),
      webhook_secret: "registered-webhook-secret",
      client_id: "Iv1.registered",
      client_secret: "registered-client-secret",
    });
}

const webhookStatus = async (runtime: Runtime) =>
  (await fetch(`${runtime.url}${WEBHOOK_PATH}`, { method: "POST", body: "{}" })).status;

describe("setup token", () => {
  it.each([
    { host: "0.0.0.0", baseUrl: "http://localhost:3000", required: true },
    { host: "127.0.0.1", baseUrl: "https://pr-pulse.example.com", required: true },
    { host: "::", baseUrl: "http://[::1]:3000", required: true },
    { host: "10.0.0.5", baseUrl: "http://10.0.0.5:3000", required: true },
    { host: "127.0.0.1", baseUrl: "http://localhost:3000", required: false },
    { host: "localhost", baseUrl: "http://127.0.0.1:3000", required: false },
    { host: "::1", baseUrl: "http://[::1]:3000", required: false },
  ])("listening on $host with BASE_URL $baseUrl: required $required", ({ host, baseUrl, required }) => {
    expect(isSetupTokenRequired({ host, baseUrl })).toBe(required);
  });

  it("is the same for replicas sharing SESSION_SECRET and differs otherwise", () => {
    const replica = (secret?: string) => setupToken(loadConfig(secret ? { SESSION_SECRET: secret } : {}));
    expect(replica(SESSION_SECRET)).toBe(replica(SESSION_SECRET));
    expect(replica(SESSION_SECRET)).not.toBe(replica("t".repeat(40)));
    // Without SESSION_SECRET each start has a random secret, so a random token.
    expect(replica()).not.toBe(replica());
    expect(replica(SESSION_SECRET)).toMatch(/^[\w-]{32}$/);
  });
});

describe("setup mode", () => {
  it("answers 403 to anyone without the setup link, whatever they claim to be", async () => {
    const app = await startSetupMode();
    const stranger = new Browser();
    const pages = [
      await stranger.get(`${app.runtime.url}/`),
      await stranger.get(`${app.runtime.url}/`, { host: "localhost", "x-forwarded-for": "127.0.0.1" }),
      await stranger.get(`${app.runtime.url}/?token=${"x".repeat(32)}`),
      await stranger.get(`${app.runtime.url}/?token=`),
      await stranger.get(`${app.runtime.url}/setup/callback?code=abc&state=def`),
    ];
    for (const page of pages) {
      expect(page.status).toBe(403);
      expect(page.text).toContain("setup link");
    }
    expect(stranger.cookies.size).toBe(0);
    expect(await database.sql`select key from app_state`).toEqual([]);
  });

  it("opens with the link printed at start, and shows no server path", async () => {
    const app = await startSetupMode();
    expect(app.captured.lines.find((line) => line.setupUrl)?.setupUrl).toBe(
      `${PUBLIC_URL}/?token=${setupToken({ sessionSecret: SESSION_SECRET })}`,
    );
    const admin = new Browser();
    const opened = await admin.get(app.link());
    // The token leaves the address bar at once; the signed cookie keeps it.
    expect(opened).toMatchObject({ status: 303, location: "/" });
    expect(admin.setCookies[0]).toMatch(/^pr_pulse_setup=.+; Max-Age=3600; Path=\/; HttpOnly; SameSite=Lax$/);
    const page = await admin.get(`${app.runtime.url}/`);
    expect(page.status).toBe(200);
    expect(page.text).toContain("Register GitHub App");
    for (const serverPath of [app.envFile, workDir, process.cwd(), path.basename(app.envFile)]) {
      expect(page.text).not.toContain(serverPath);
    }
  });

  it("registers once: of two callbacks at the same time one switches the server, the other gets 409", async () => {
    const app = await startSetupMode();
    const scope = conversion(1);
    const [first, second] = [new Browser(), new Browser()];
    const states = [await first.startRegistration(app), await second.startRegistration(app)];
    const callbacks = await Promise.all(
      [first, second].map((browser, i) =>
        browser.get(`${app.runtime.url}/setup/callback?code=code-${i}&state=${states[i]}`),
      ),
    );
    expect(callbacks.map((page) => page.status).sort()).toEqual([200, 409]);
    expect(callbacks.find((page) => page.status === 409)?.text).toContain(
      `GitHub App #${REGISTERED_APP_ID} is already registered`,
    );
    expect(scope.isDone()).toBe(true);
    expect(dotenv.parse(await readFile(app.envFile, "utf8"))).toMatchObject({
      APP_ID: String(REGISTERED_APP_ID),
      WEBHOOK_SECRET: "registered-webhook-secret",
    });
    expect(await database.sql`select value->>'appId' as app_id from app_state`).toEqual([
      { app_id: String(REGISTERED_APP_ID) },
    ]);

    // The server switched once, to the registered App, and serves.
    await waitFor(() => app.runtime.config.app?.appId === String(REGISTERED_APP_ID), {
      what: "the switch to the registered App",
    });
    expect(await webhookStatus(app.runtime)).toBe(401);
    expect(app.captured.lines.filter((line) => line.msg === "pr pulse listening")).toHaveLength(2);
    const late = await first.get(`${app.runtime.url}/setup/callback?code=code-3&state=${states[0]}`);
    expect(late.status).toBe(404);
  });

  it("shows a configuration error met while switching on the setup page, and keeps serving", async () => {
    const app = await startSetupMode({}, () => {
      throw new ConfigError("PRIVATE_KEY: not a PEM private key (expected -----BEGIN ... PRIVATE KEY-----)");
    });
    conversion(1);
    const admin = new Browser();
    const state = await admin.startRegistration(app);
    const done = await admin.get(`${app.runtime.url}/setup/callback?code=abc&state=${state}`);
    expect(done.status).toBe(200);

    const page = await waitFor(
      async () => {
        const current = await admin.get(`${app.runtime.url}/`);
        return current.text.includes("could not switch") ? current : undefined;
      },
      { what: "the setup page to report the problem" },
    );
    expect(page.status).toBe(409);
    expect(page.text).toContain("PRIVATE_KEY: not a PEM private key");
    expect((await fetch(`${app.runtime.url}/healthz`)).status).toBe(200);
    expect(await webhookStatus(app.runtime)).toBe(503);
  });

  it("goes back to setup mode, saying why, when starting with the new credentials fails", async () => {
    // An address this machine does not have: listening on it fails, as a taken port would.
    const app = await startSetupMode({}, (fromEnvFile) => ({ ...fromEnvFile(), host: "203.0.113.7" }));
    conversion(1);
    const admin = new Browser();
    const state = await admin.startRegistration(app);
    expect((await admin.get(`${app.runtime.url}/setup/callback?code=abc&state=${state}`)).status).toBe(200);

    const page = await waitFor(
      async () => {
        const current = await admin.get(`${app.runtime.url}/`).catch(() => undefined);
        return current?.text.includes("could not switch") ? current : undefined;
      },
      { what: "setup mode to come back with the problem" },
    );
    expect(page.text).toContain("EADDRNOTAVAIL");
    expect(app.runtime.config.app).toBeUndefined();
    expect(await webhookStatus(app.runtime)).toBe(503);
  });

  it("marks the setup cookie Secure when BASE_URL is https", async () => {
    const app = await startSetupMode({ BASE_URL: "https://pr-pulse.example.test" });
    const admin = new Browser();
    await admin.startRegistration(app);
    expect(admin.setCookies.length).toBeGreaterThan(0);
    for (const cookie of admin.setCookies) expect(cookie).toMatch(/; Secure/);
  });

  it("needs no token on a server only reachable from this machine", async () => {
    const app = await startSetupMode({ BASE_URL: "http://localhost:3999" });
    expect(app.captured.lines.find((line) => line.setupUrl)?.setupUrl).toBe("http://localhost:3999/");
    const page = await new Browser().get(`${app.runtime.url}/`);
    expect(page.status).toBe(200);
    expect(page.text).toContain("Register GitHub App");
  });
});
