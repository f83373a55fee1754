import type { Probot } from "probot";
import { toAppError } from "./client.js";

export interface AppInfo {
  slug: string;
  /** The App's page on GitHub (GitHub.com: /apps/<slug>; GHES: /github-apps/<slug>). */
  htmlUrl: string;
}

/** The App's own description (GET /app, as the App): its slug names its install page. */
export async function fetchAppInfo(probot: Probot): Promise<AppInfo> {
  try {
    const octokit = await probot.auth();
    // Asked while a page renders: one attempt, not Octokit's retries with backoff.
    const { data } = await octokit.request("GET /app", { request: { retries: 0 } });
    if (!data) throw new Error("GitHub answered GET /app without a body");
    return { slug: data.slug ?? String(data.id), htmlUrl: data.html_url };
  } catch (error) {
    throw toAppError(error);
  }
}
