/**
 * Starts bench/fake-server.ts as a child process and talks to it over IPC: the benchmark's view of
 * the fake GitHub.
 */
import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import type {
  FakeRequest,
  FakeResponses,
  FakeServerOptions,
  FakeServerReady,
  RequestEnvelope,
  ResponseEnvelope,
} from "./protocol.js";

/** Seeding 100,000 pull requests takes a few seconds; building GitHub's schema another. */
const READY_TIMEOUT_MS = 120_000;
const REQUEST_TIMEOUT_MS = 30_000;

export interface FakeProcess extends Omit<FakeServerReady, "type"> {
  pid: number | undefined;
  request<T extends FakeRequest>(request: T): Promise<FakeResponses[T["type"]]>;
  stop(): Promise<void>;
}

export async function startFakeProcess(options: FakeServerOptions): Promise<FakeProcess> {
  const child: ChildProcess = fork(
    fileURLToPath(new URL("./fake-server.ts", import.meta.url)),
    [JSON.stringify(options)],
    // tsx compiles the TypeScript; the child gets its own heap (its memory is not the app's).
    { execArgv: ["--import", "tsx"], stdio: ["ignore", "inherit", "inherit", "ipc"] },
  );
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  let nextId = 1;

  const ready = await new Promise<FakeServerReady>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("fake GitHub did not start in time")), READY_TIMEOUT_MS);
    child.once("exit", (code) => reject(new Error(`fake GitHub exited with code ${code} while starting`)));
    child.on("message", (message: FakeServerReady | ResponseEnvelope) => {
      if ("type" in message && message.type === "ready") {
        clearTimeout(timer);
        resolve(message);
        return;
      }
      const envelope = message as ResponseEnvelope;
      const waiter = pending.get(envelope.id);
      pending.delete(envelope.id);
      if (envelope.error !== undefined) waiter?.reject(new Error(envelope.error));
      else waiter?.resolve(envelope.result);
    });
  });
  child.on("exit", () => {
    for (const waiter of pending.values()) waiter.reject(new Error("fake GitHub exited"));
    pending.clear();
  });

  const request = <T extends FakeRequest>(body: T) =>
    new Promise<FakeResponses[T["type"]]>((resolve, reject) => {
      const id = nextId++;
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error(`fake GitHub did not answer ${body.type}`));
      }, REQUEST_TIMEOUT_MS);
      pending.set(id, {
        resolve: (value) => {
          clearTimeout(timer);
          resolve(value as FakeResponses[T["type"]]);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      child.send({ id, request: body } satisfies RequestEnvelope);
    });

  const { type: _type, ...info } = ready;
  return {
    ...info,
    pid: child.pid,
    request,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      await request({ type: "stop" }).catch(() => child.kill("SIGTERM"));
      const killer = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(killer);
    },
  };
}
