import pino, { type Logger } from "pino";
import type { Config } from "./config.js";

/** One JSON logger for the whole process; children add installationId, deliveryId, jobId, repo. */
export function createLogger(config: Pick<Config, "logLevel">): Logger {
  return pino({
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
  });
}
