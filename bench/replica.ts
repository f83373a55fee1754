/**
 * Another process of the app for `npm run bench:webhooks`: the real engine (src/runtime.ts) on the
 * benchmark's database, working only the queues it is given, so that the benchmark can show what a
 * second replica adds. bench/webhooks.ts forks it with the options as JSON in argv[2]; it reports
 * "ready" over IPC and stops on "stop" or when its parent goes away.
 */
import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { QueueKey } from "../src/queue/catalog.js";
import { startEngine } from "./engine.js";

export interface ReplicaOptions {
  databaseUrl: string;
  githubHost: string;
  appId: number;
  logLevel: string;
  env: Record<string, string>;
  queues: QueueKey[];
}

export interface Replica {
  pid: number | undefined;
  stop(): Promise<void>;
}

/** Forks a replica and resolves once its workers run. */
export async function startReplica(options: ReplicaOptions): Promise<Replica> {
  const child = fork(fileURLToPath(import.meta.url), [JSON.stringify(options)], {
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  await new Promise<void>((resolve, reject) => {
    child.once("message", () => resolve());
    void exited.then(() => reject(new Error("replica exited while starting")));
  });
  return {
    pid: child.pid,
    async stop() {
      child.send("stop");
      // Its workers finish their batches first; after that it is killed.
      const killer = setTimeout(() => child.kill("SIGKILL"), 30_000);
      await exited;
      clearTimeout(killer);
    },
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const options = JSON.parse(process.argv[2] ?? "{}") as ReplicaOptions;
  const engine = await startEngine({ ...options, logLevel: options.logLevel });
  const stop = async () => {
    await engine.stop();
    process.exit(0);
  };
  process.on("message", () => void stop());
  process.on("disconnect", () => void stop());
  process.send?.("ready");
}
