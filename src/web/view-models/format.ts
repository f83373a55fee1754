import type { SyncStatus } from "../../db/schema/index.js";
import type { Progress } from "../../metrics/progress.js";

/** Formatting shared by the pages' view models; templates only print what these return. */

const statusLabels: Record<SyncStatus, string> = {
  pending: "Not synced",
  queued: "Queued",
  syncing: "Syncing",
  paused_rate_limited: "Paused",
  complete: "Up to date",
  error: "Failed",
};

export function statusLabel(status: SyncStatus): string {
  return statusLabels[status];
}

/** A moment for a <time> element: the machine-readable value, and a UTC text app.js localises. */
export interface TimeView {
  iso: string;
  text: string;
}

export function timeView(value: Date | null | undefined): TimeView | null {
  if (!value) return null;
  return { iso: value.toISOString(), text: `${value.toISOString().replace("T", " ").slice(0, 16)} UTC` };
}

export function formatDuration(seconds: number): string {
  if (seconds < 90) return "about a minute";
  if (seconds < 90 * 60) return `about ${Math.round(seconds / 60)} minutes`;
  if (seconds < 36 * 3600) return `about ${Math.round(seconds / 3600)} hours`;
  return `about ${Math.round(seconds / 86_400)} days`;
}

export function formatEta(seconds: number | null): string | null {
  return seconds === null ? null : `${formatDuration(seconds)} left`;
}

export function formatCount(value: number): string {
  return value.toLocaleString("en-US");
}

/** "1,204 of 3,000 pull requests (40%)" or "1,204 pull requests" while the total is unknown. */
export function progressText(progress: Progress): string {
  return progress.total === null
    ? `${formatCount(progress.done)} pull requests`
    : `${formatCount(progress.done)} of ${formatCount(progress.total)} pull requests`;
}

/** A failure code as a sentence that says what to do. */
export function failureAdvice(code: string | null): string {
  switch (code) {
    case "auth":
      return "GitHub refused the App's credentials. Check that the App is still installed, then press Sync now.";
    case "permission":
      return "The App lacks a permission for this repository. Accept the App's requested permissions in the installation settings on GitHub, then press Sync now.";
    case "not_found":
      return "GitHub no longer shows this repository to the App: it was deleted, or access was removed from the installation.";
    case "invalid":
      return "GitHub answered with data PR Pulse could not use. Press Sync now to try again; if it fails again, the logs say which pull request.";
    default:
      return "GitHub did not answer after several attempts. PR Pulse tries again tonight; press Sync now to try at once.";
  }
}
