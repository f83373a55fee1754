import pino, { type DestinationStream, type Logger } from "pino";
import pinoPretty from "pino-pretty";
import type { Config } from "./config.js";
import { safeErrorMessage } from "./errors.js";
import { cleanText } from "./text.js";

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

/**
 * One logger for the whole process; children add installationId, deliveryId, jobId, repo.
 * `destination` (tests) overrides the format's own output.
 */
export function createLogger(config: Pick<Config, "logLevel" | "env">): Logger;
export function createLogger(config: Pick<Config, "logLevel">, destination: DestinationStream): Logger;
export function createLogger(
  config: Pick<Config, "logLevel"> & Partial<Pick<Config, "env">>,
  destination?: DestinationStream,
): Logger {
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
    serializers: logSerializers,
    hooks: {
      // log.error(error) makes the error's message the line's msg, unserialized: scrub it too.
      logMethod(this: Logger, args: unknown[], method: (...a: unknown[]) => void) {
        const [first, second] = args;
        if (first instanceof Error && typeof second !== "string") {
          return method.apply(this, [first, safeErrorMessage(first)]);
        }
        return method.apply(this, args);
      },
    },
  };
  if (destination) return pino(options, destination);
  if (!config.env || resolveLogFormat({ env: config.env }) === "json") return pino(options);
  // In the main thread and synchronous: lines stay in order with the rest and survive an exit.
  return pino(
    options,
    pinoPretty({ sync: true, colorize: true, translateTime: "SYS:HH:MM:ss.l", ignore: "pid,hostname" }),
  );
}

/**
 * Error fields that are never logged: a failed query's parameters (drizzle's `params`, postgres.js's
 * `parameters`), Octokit's whole request and response (URLs carry one-time codes, bodies carry
 * payloads), and the webhook event @octokit/webhooks attaches to a handler's error (the payload).
 */
const HIDDEN_ERROR_FIELDS = new Set([
  "params",
  "parameters",
  "args",
  "request",
  "response",
  "headers",
  "data",
  "event",
]);

/**
 * pino's `err` serializer, minus what an error may carry that must not reach the logs: the message
 * and stack of a failed query lose its parameters, every message loses U+0000, and the fields above
 * are left out. Causes and aggregated errors are serialized the same way.
 */
export function serializeError(value: unknown): unknown {
  return value instanceof Error ? serializeOneError(value, new Set()) : value;
}

function serializeOneError(error: Error, seen: Set<Error>): Record<string, unknown> {
  seen.add(error);
  const message = safeErrorMessage(error);
  const serialized: Record<string, unknown> = {
    type: error.constructor?.name || error.name,
    message,
    // The stack starts with the original message; a function replacement keeps "$&" in it literal.
    stack:
      error.stack === undefined ? undefined : cleanText(error.stack.replace(error.message, () => message)),
  };
  for (const [key, field] of Object.entries(error)) {
    if (key in serialized || key === "cause" || key === "errors" || HIDDEN_ERROR_FIELDS.has(key)) continue;
    if (field instanceof Error) {
      if (!seen.has(field)) serialized[key] = serializeOneError(field, seen);
      continue;
    }
    serialized[key] = field;
  }
  if (error instanceof AggregateError) {
    serialized.aggregateErrors = error.errors.map((inner: unknown) =>
      inner instanceof Error && !seen.has(inner) ? serializeOneError(inner, seen) : String(inner),
    );
  }
  if (error.cause instanceof Error && !seen.has(error.cause)) {
    serialized.cause = serializeOneError(error.cause, seen);
  }
  return serialized;
}

/** Query parameters whose values are secrets for a while: OAuth and manifest codes and states, the setup token. */
const SECRET_QUERY_PARAMETERS = new Set(["code", "state", "token"]);

/** A request URL as it may be logged: the path, and the query with secret values replaced. */
export function redactUrl(url: string): string {
  const start = url.indexOf("?");
  if (start === -1) return url;
  const pairs = url
    .slice(start + 1)
    .split("&")
    .map((pair) => {
      const end = pair.indexOf("=");
      const rawKey = end === -1 ? pair : pair.slice(0, end);
      return SECRET_QUERY_PARAMETERS.has(decodeKey(rawKey).toLowerCase()) ? `${rawKey}=[redacted]` : pair;
    });
  return `${url.slice(0, start)}?${pairs.join("&")}`;
}

function decodeKey(key: string): string {
  try {
    return decodeURIComponent(key.replaceAll("+", " "));
  } catch {
    return key;
  }
}

interface LoggedRequest {
  method?: string;
  url?: string;
  ip?: string;
  socket?: { remotePort?: number } | null;
}

/** Fastify's request serializer, with the URL's secret query values redacted. */
export function serializeRequest(request: LoggedRequest): Record<string, unknown> {
  return {
    method: request.method,
    url: request.url === undefined ? undefined : redactUrl(request.url),
    remoteAddress: request.ip,
    remotePort: request.socket?.remotePort,
  };
}

export const logSerializers = { err: serializeError, req: serializeRequest };
