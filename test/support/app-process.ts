import { spawn, type ChildProcess } from "node:child_process";
import { afterAll, beforeAll } from "@jest/globals";
import { PgBoss } from "pg-boss";
import { APP_ID, QUICK_GITHUB, testPrivateKey, WEBHOOK_SECRET } from "./app.js";
import { createTestDatabase, type TestDatabase } from "./database.js";
import {
  deliverWebhook,
  startFakeGitHub,
  type FakeGitHub,
  type FakeGitHubOptions,
  type Webhook,
} from "./fake-github/index.js";
import { freePort } from "./free-port.js";
import { waitFor } from "./wait.js";

// Tests take it from here, beside the app processes it is for.
export { freePort };

/**
 * PR Pulse as production runs it: `src/main.ts` in a process of its own (tsx as a loader, not its
 * CLI, which would run the app in a grandchild that a SIGKILL misses). Tests kill it with -9, start
 * several on one database, or take its Postgres away, and watch it from outside.
 */
export interface AppProcess {
  /** http://127.0.0.1:PORT */
  readonly url: string;
  readonly pid: number;
  /** Its Postgres sessions' application_name (DATABASE_APPLICATION_NAME; its jobs' add "-jobs"). */
  readonly applicationName: string;
  /** The exit code or signal, once the process has ended. */
  readonly exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  /** What the process wrote to stdout and stderr (its pino logs), for failure messages. */
  output(): string;
  /** GET on the process; if it cannot answer because it died, the error says how and why. */
  get(path: string): Promise<Response>;
  /** POSTs a signed delivery as GitHub does; a refused connection counts as status 0. */
  deliver(hook: Webhook): Promise<number>;
  /** Sends the signal (SIGKILL by default) and resolves once the process is gone. */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export interface AppProcessOptions {
  databaseUrl: string;
  /** The fake GitHub's host (GHE_HOST, with GHE_PROTOCOL=http). */
  githubHost: string;
  env?: Record<string, string>;
}

/** Keeps the end of the output only: enough to see why a process died. */
const OUTPUT_LIMIT = 200_000;

export async function startAppProcess(options: AppProcessOptions): Promise<AppProcess> {
  // A PORT of the caller's keeps a URL across restarts (the App's webhook URL, say).
  const port = options.env?.PORT ? Number(options.env.PORT) : await freePort();
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    env: {
      ...process.env,
      DATABASE_URL: options.databaseUrl,
      GHE_HOST: options.githubHost,
      GHE_PROTOCOL: "http",
      APP_ID,
      PRIVATE_KEY: testPrivateKey(),
      WEBHOOK_SECRET,
      PORT: String(port),
      HOST: "127.0.0.1",
      LOG_LEVEL: "warn",
      DATABASE_APPLICATION_NAME: `pr-pulse-test-${port}`,
      ENV_FILE: "/nonexistent/.env",
      ...QUICK_GITHUB,
      ...options.env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  // pino writes to stdout; Node reports an uncaught exception on stderr.
  let output = "";
  let errors = "";
  child.stdout!.on("data", (chunk: Buffer) => {
    output = (output + chunk.toString("utf8")).slice(-OUTPUT_LIMIT);
  });
  child.stderr!.on("data", (chunk: Buffer) => {
    output = (output + chunk.toString("utf8")).slice(-OUTPUT_LIMIT);
    errors = (errors + chunk.toString("utf8")).slice(-OUTPUT_LIMIT);
  });
  let exit: AppProcess["exit"];
  const exited = new Promise<void>((resolve) =>
    child.once("exit", (code, signal) => {
      exit = { code, signal };
      resolve();
    }),
  );
  const url = `http://127.0.0.1:${port}`;

  const app: AppProcess = {
    url,
    pid: child.pid!,
    applicationName: `pr-pulse-test-${port}`,
    get exit() {
      return exit;
    },
    output: () => output,
    async get(path) {
      try {
        return await fetch(`${url}${path}`);
      } catch (error) {
        if (!exit) throw error;
        throw new Error(`app process exited (${JSON.stringify(exit)}); its stderr:\n${errors.slice(-3000)}`, {
          cause: error,
        });
      }
    },
    async deliver(hook) {
      try {
        const response = await deliverWebhook({
          url: `${url}/api/github/webhooks`,
          secret: WEBHOOK_SECRET,
          name: hook.name,
          id: hook.id,
          payload: hook.payload,
          appId: Number(APP_ID),
        });
        return response.status;
      } catch {
        return 0;
      }
    },
    async kill(signal = "SIGKILL") {
      if (exit) return;
      child.kill(signal);
      await exited;
    },
  };

  try {
    await waitFor(
      async () => {
        if (exit) throw new Error(`app process exited (${JSON.stringify(exit)}) while starting:\n${errors}`);
        return fetch(`${url}/healthz`).then(
          (response) => response.ok,
          () => false,
        );
      },
      // A bound, not a speed check: a start on a loaded runner (tsx, every module, migrations
      // checked, pg-boss started) took over 30 s beside other files' processes and a browser.
      { timeoutMs: 90_000, what: "the app process to listen" },
    );
  } catch (error) {
    await app.kill();
    throw error;
  }
  return app;
}

/**
 * A replica without workers whose pg-boss supervises every second (production: every minute): a
 * job whose process died is handed back as soon as its heartbeat lapses, so a test waits seconds,
 * not minutes. Everything else (claiming, running, retrying the job) is left to the app processes.
 */
export async function startSupervisor(databaseUrl: string): Promise<PgBoss> {
  const boss = new PgBoss({
    connectionString: databaseUrl,
    schedule: false,
    superviseIntervalSeconds: 1,
    monitorIntervalSeconds: 1,
  });
  // Outages are what these tests cause; the app processes report them.
  boss.on("error", () => {});
  await boss.start();
  return boss;
}

export interface AppProcesses {
  database: TestDatabase;
  github: FakeGitHub;
  /** Starts an app process on the file's database and fake GitHub; killed after the file if alive. */
  start(env?: Record<string, string>): Promise<AppProcess>;
  /** Starts the file's supervisor (see startSupervisor); stopped after the file. */
  supervise(): Promise<void>;
}

/**
 * The lifecycle of a test file that runs the app in processes of its own: its own database and
 * fake GitHub for the file, and every process and the supervisor it started gone by its end.
 */
export function useAppProcesses(github: FakeGitHubOptions): AppProcesses {
  const processes: AppProcess[] = [];
  let supervisor: PgBoss | undefined;
  const harness = {
    async start(env) {
      const app = await startAppProcess({
        databaseUrl: harness.database.url,
        githubHost: harness.github.host,
        env,
      });
      processes.push(app);
      return app;
    },
    async supervise() {
      supervisor = await startSupervisor(harness.database.url);
    },
  } as AppProcesses;
  beforeAll(async () => {
    harness.database = await createTestDatabase();
    harness.github = await startFakeGitHub(github);
  });
  afterAll(async () => {
    await Promise.all(processes.map((app) => app.kill()));
    await supervisor?.stop({ graceful: false });
    await harness.github?.close();
    await harness.database?.drop();
  });
  return harness;
}
