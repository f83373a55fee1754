import { cleanText } from "./text.js";

/**
 * Every error the app raises on purpose. GitHub API failures become one of these in
 * src/github/client.ts; jobs decide from the type whether to delay, skip or retry.
 */

export type FailureCode =
  "auth" | "permission" | "not_found" | "rate_limit" | "server" | "cursor" | "invalid";

export class AppError extends Error {
  readonly code: FailureCode = "server";
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Primary (budget exhausted or below our reserve) or secondary (abuse) limit: wait, do not fail. */
export class RateLimitedError extends AppError {
  override readonly code = "rate_limit";
  constructor(
    readonly resetAt: Date,
    readonly kind: "primary" | "secondary" | "reserve",
    options?: ErrorOptions,
  ) {
    super(`GitHub ${kind} rate limit until ${resetAt.toISOString()}`, options);
  }
}

export class NotFoundError extends AppError {
  override readonly code = "not_found";
}

/**
 * GitHub accepted the installation token and answered that an object (repository, pull request)
 * does not exist or is not visible: the installation itself is fine.
 */
export class ObjectNotFoundError extends NotFoundError {}

/** 401: the installation token or App JWT was refused (installation deleted, key rotated). */
export class AuthError extends AppError {
  override readonly code = "auth";
}

/** 403 that is not a rate limit: the App lacks a permission or the installation is suspended. */
export class PermissionError extends AppError {
  override readonly code = "permission";
}

/** 5xx, timeouts and connection failures: worth retrying, with a smaller page if it was a big one. */
export class ServerError extends AppError {
  override readonly code = "server";
  constructor(
    message: string,
    readonly status: number | undefined,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * GitHub did not answer one attempt within its deadline (GITHUB_CONNECT_TIMEOUT_MS,
 * GITHUB_REST_TIMEOUT_MS, GITHUB_GRAPHQL_TIMEOUT_MS): retried like a 502, and like a dropped
 * connection it has no status, so a page that timed out is asked for again smaller.
 */
export class TimeoutError extends ServerError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, undefined, options);
  }
}

/**
 * The job attempt a GitHub call belonged to is over (pg-boss expired it, its claim was lost, or the
 * process is stopping): its calls stop at once. Not a fault of the repository, so nothing is
 * recorded on it; pg-boss has already settled the attempt and a retry resumes the work.
 */
export class AttemptEndedError extends AppError {}

/** A saved pagination cursor GitHub no longer accepts: the sync restarts that pass. */
export class CursorError extends AppError {
  override readonly code = "cursor";
}

/** Input we cannot use (malformed payload, bad form field). Never retried. */
export class InvalidInputError extends AppError {
  override readonly code = "invalid";
}

/**
 * A request whose input does not fit what its route declares (src/web/contract.ts): answered 400
 * before its handler runs. `issues` name the field and what is wrong with it.
 */
export class RequestInputError extends InvalidInputError {
  readonly statusCode = 400;
  constructor(
    readonly part: string,
    readonly issues: { field: string; message: string }[],
  ) {
    super(
      issues.map((issue) => (issue.field ? `${issue.field}: ${issue.message}` : issue.message)).join("; "),
    );
  }
}

/** Longest error text stored with a job, a delivery or a repository: enough to act on, never a payload. */
export const MAX_STORED_ERROR_LENGTH = 1000;

interface QueryFailure {
  query: string;
  params: unknown[];
}

/** drizzle's DrizzleQueryError, whose message is "Failed query: <sql>\nparams: <every parameter>". */
function isQueryFailure(error: unknown): error is Error & QueryFailure {
  const candidate = error as Partial<QueryFailure> | null;
  return error instanceof Error && typeof candidate?.query === "string" && Array.isArray(candidate.params);
}

/**
 * An error's own message without what must never leave the process: a failed query's parameters
 * (GitHub's data: titles, logins, emails, whole payloads) and U+0000 (which Postgres refuses, so an
 * error holding one could not even be recorded).
 */
export function safeErrorMessage(error: Error): string {
  return cleanText(isQueryFailure(error) ? `Failed query: ${error.query}` : error.message);
}

/**
 * The text stored for a failure (pg-boss job output, `last_error`): the error and its causes,
 * without query parameters or U+0000, and bounded. For a failed query the database's reason comes
 * first and the statement last, since a multi-row statement can be long.
 */
export function describeError(error: unknown): string {
  const reasons: string[] = [];
  let query: string | undefined;
  const seen = new Set<unknown>();
  for (let current = error; current !== undefined && current !== null && !seen.has(current);) {
    seen.add(current);
    if (!(current instanceof Error)) {
      reasons.push(String(current));
      break;
    }
    if (isQueryFailure(current)) query ??= current.query;
    else if (current.message) reasons.push(current.message);
    current = current.cause;
  }
  const reason = reasons.join(": ") || (query === undefined ? "unknown error" : "database query failed");
  const text = query === undefined ? reason : `${reason} (failed query: ${query})`;
  // Cleaned after cutting: the cut may split a surrogate pair, which jsonb would refuse.
  return cleanText(text.slice(0, MAX_STORED_ERROR_LENGTH));
}
