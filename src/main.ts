import { ConfigError, loadConfigFromEnvironment, type Config } from "./config.js";
import { createLogger } from "./logger.js";
import { startRuntime } from "./runtime.js";

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
    await runtime.stop();
    process.exit(0);
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
