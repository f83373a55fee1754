import type { Logger } from "pino";
import type { Db } from "../db/client.js";
import { markRepositoryPaused, recordRepositoryFailure } from "../db/queries/repositories.js";
import { AppError, AttemptEndedError, describeError, RateLimitedError } from "../errors.js";

/** Errors no retry will fix; the repo shows them until an admin or the nightly sync tries again. */
const PERMANENT = new Set(["auth", "permission", "not_found", "invalid"]);

export type FailureOutcome = "paused" | "retry" | "failed";

/**
 * Records a sync failure on the repository and says what the job should do:
 * - paused: a rate limit; the worker requeues the job for the reset time;
 * - retry: transient; the job throws so pg-boss retries it with backoff (an attempt that ended
 *   records nothing);
 * - failed: permanent, or the last attempt; the repo goes to `error` with a stable code.
 */
export async function recordSyncFailure(
  db: Db,
  repoId: number,
  error: unknown,
  options: { finalAttempt: boolean; log: Logger; now: Date },
): Promise<FailureOutcome> {
  if (error instanceof RateLimitedError) {
    await markRepositoryPaused(db, repoId, error.resetAt, options.now);
    return "paused";
  }
  // The job attempt ran out of time (or the process is stopping): nothing wrong with the
  // repository, and pg-boss retries the attempt, which resumes from the saved cursor.
  if (error instanceof AttemptEndedError) return "retry";
  const code = error instanceof AppError ? error.code : "server";
  // Without query parameters or U+0000: the repository's row must be able to hold it.
  const message = describeError(error);
  const failed = PERMANENT.has(code) || options.finalAttempt;
  await recordRepositoryFailure(db, repoId, { message, code, failed, at: options.now });
  if (failed) {
    options.log.error({ code: `sync_failed_${code}`, repoId, err: error }, "repository sync failed");
    return "failed";
  }
  options.log.warn({ code: `sync_retry_${code}`, repoId, err: error }, "repository sync attempt failed");
  return "retry";
}
