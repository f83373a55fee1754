import { ConfigError, loadConfigFromEnvironment, type Config } from "./config.js";
import { createLogger } from "./logger.js";
import { startRuntime } from "./runtime.js";

/** The runtime stops within this after SIGTERM; see STOP_GRACE_MS in runtime.ts for the budget. */
const SHUTDOWN_DEADLINE_MS = 25_000;

/** `npm start`: read the configuration, start the runtime, stop it on SIGTERM or SIGINT. */
async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfigFromEnvironment();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
  const log = createLogger(config);
  const runtime = await startRuntime({
    config,
    log,
    // The manifest flow writes the new App's credentials to the env file; they win over the old values.
    reloadConfig: () => loadConfigFromEnvironment({ override: true }),
  });

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "shutting down");
    // Whatever hangs, the process is gone before an orchestrator's 30 s grace runs out.
    setTimeout(() => {
      log.error({ signal, afterMs: SHUTDOWN_DEADLINE_MS }, "shutdown deadline passed; exiting");
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS).unref();
    try {
      await runtime.stop();
    } catch (error) {
      log.error({ err: error }, "shutdown failed");
      process.exit(1);
    }
    log.info({ signal }, "stopped");
    process.exit(0);
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
