import pino, { type Logger } from "pino";
import pinoPretty from "pino-pretty";
import type { Config } from "./config.js";

export type LogFormat = "json" | "pretty";

/**
 * LOG_FORMAT when set; otherwise pretty for a person at a terminal and JSON for everything else
 * (containers, log collectors, files), which is what `npm start` piped anywhere gets.
 */
export function resolveLogFormat(
  config: Pick<Config, "env">,
  isTerminal: boolean = Boolean(process.stdout.isTTY),
): LogFormat {
  return config.env.LOG_FORMAT ?? (isTerminal ? "pretty" : "json");
}

/** One logger for the whole process; children add installationId, deliveryId, jobId, repo. */
export function createLogger(config: Pick<Config, "logLevel" | "env">): Logger {
  const options = {
    level: config.logLevel,
    // Secrets never reach the logs, whatever object a caller passes in.
    redact: {
      paths: [
        "privateKey",
        "*.privateKey",
        "webhookSecret",
        "*.webhookSecret",
        "clientSecret",
        "*.clientSecret",
        "token",
        "*.token",
        "req.headers.authorization",
        "req.headers.cookie",
        "req.headers['x-hub-signature-256']",
      ],
      censor: "[redacted]",
    },
  };
  if (resolveLogFormat(config) === "json") return pino(options);
  // In the main thread and synchronous: lines stay in order with the rest and survive an exit.
  return pino(
    options,
    pinoPretty({ sync: true, colorize: true, translateTime: "SYS:HH:MM:ss.l", ignore: "pid,hostname" }),
  );
}
