/**
 * The naive REST way to collect what PR Pulse stores: list the pull requests, then for each one
 * fetch the pull request, its reviews and its commits (100 per page, following Link headers).
 * Plain fetch with an installation token, two pull requests at a time like PR Pulse's default
 * per-installation concurrency.
 */
import { fakeAppJwt } from "../test/support/fake-github/rest.js";

const PER_PAGE = 100;

export interface BaselineOptions {
  /** http://127.0.0.1:PORT of the fake (GHES paths under /api/v3). */
  url: string;
  appId: number;
  installationId: number;
  repoFullName: string;
  sample: number;
  concurrency: number;
}

export interface BaselineResult {
  prs: number;
  /** Calls charged to the installation's REST budget (the token exchange is not). */
  restCalls: number;
  wallMs: number;
  callsPerPr: number;
  prsPerMinute: number;
}

export async function runBaseline(options: BaselineOptions): Promise<BaselineResult> {
  const api = `${options.url}/api/v3`;
  const tokenResponse = await fetch(`${api}/app/installations/${options.installationId}/access_tokens`, {
    method: "POST",
    headers: { authorization: `Bearer ${fakeAppJwt(options.appId)}`, accept: "application/vnd.github+json" },
  });
  const { token } = (await tokenResponse.json()) as { token: string };
  let restCalls = 0;

  const get = async (url: string): Promise<{ body: unknown[] | object; next: string | null }> => {
    restCalls++;
    const response = await fetch(url, {
      headers: { authorization: `token ${token}`, accept: "application/vnd.github+json" },
    });
    if (!response.ok) throw new Error(`baseline: ${url} answered ${response.status}`);
    const next = /<([^>]+)>;\s*rel="next"/.exec(response.headers.get("link") ?? "")?.[1] ?? null;
    return { body: (await response.json()) as unknown[] | object, next };
  };
  const getAll = async (url: string): Promise<void> => {
    for (let next: string | null = url; next !== null;) next = (await get(next)).next;
  };

  const started = performance.now();
  // 1. The list, newest first, until the sample is covered.
  const numbers: number[] = [];
  let next: string | null = `${api}/repos/${options.repoFullName}/pulls?state=all&per_page=${PER_PAGE}`;
  while (next !== null && numbers.length < options.sample) {
    const page = await get(next);
    numbers.push(...(page.body as { number: number }[]).map((pr) => pr.number));
    next = page.next;
  }
  const sample = numbers.slice(0, options.sample);

  // 2. Each pull request with its reviews and commits.
  let cursor = 0;
  const worker = async () => {
    while (cursor < sample.length) {
      const number = sample[cursor++]!;
      const base = `${api}/repos/${options.repoFullName}/pulls/${number}`;
      await get(base);
      await getAll(`${base}/reviews?per_page=${PER_PAGE}`);
      await getAll(`${base}/commits?per_page=${PER_PAGE}`);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  const wallMs = performance.now() - started;
  return {
    prs: sample.length,
    restCalls,
    wallMs,
    callsPerPr: restCalls / sample.length,
    prsPerMinute: sample.length / (wallMs / 60_000),
  };
}
