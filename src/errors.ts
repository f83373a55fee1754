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

/** A saved pagination cursor GitHub no longer accepts: the sync restarts that pass. */
export class CursorError extends AppError {
  override readonly code = "cursor";
}

/** Input we cannot use (malformed payload, bad form field). Never retried. */
export class InvalidInputError extends AppError {
  override readonly code = "invalid";
}
