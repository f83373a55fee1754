/**
 * Messages between bench/backfill.ts and the fake GitHub it runs in a child process
 * (bench/fake-server.ts), over Node's IPC channel.
 */
import type { FakeGitHubStats, Webhook } from "../test/support/fake-github/index.js";

export interface FakeServerOptions {
  seed: number;
  appId: number;
  /** Added to every response: baseMs + perNodeMs × objects returned. */
  latency: { baseMs: number; perNodeMs: number };
  orgs: {
    login: string;
    repos: number;
    prsPerRepo: number;
    /** Pull requests of each repository by position, instead of prsPerRepo for all. */
    prsByRepo?: number[];
    /** Pull requests are opened over this many days up to now (the seeder's default: 400). */
    spanDays?: number;
  }[];
  /** The child exits by itself after this long, whatever the parent does. */
  maxSeconds: number;
}

export interface SeededRepo {
  id: number;
  name: string;
  fullName: string;
  prs: number;
}

export interface SeededInstallation {
  id: number;
  login: string;
  repos: SeededRepo[];
}

export interface FakeServerReady {
  type: "ready";
  host: string;
  url: string;
  installations: SeededInstallation[];
  /** Objects in the first 50-PR backfill page of the first repository, and the latency that gives. */
  calibration: { pageSize: number; nodes: number; modelledMs: number; points: number };
  seedMs: number;
}

export type FakeRequest =
  | { type: "stats" }
  | { type: "reset-stats" }
  /** Units spent from an installation's hourly buckets (REST "core" and GraphQL points). */
  | { type: "budget"; installationId: number }
  | { type: "installation-created"; installationId: number }
  /** A pull_request delivery of this action for each of the installation's pull requests (up to `limit`). */
  | { type: "pull-request-webhooks"; installationId: number; action: "synchronize"; limit: number }
  /** Each repository's pull requests created at or after `since` (ISO), by repository id: GitHub's truth. */
  | { type: "created-since"; installationId: number; since: string }
  | { type: "stop" };

export interface FakeResponses {
  stats: FakeGitHubStats;
  "reset-stats": null;
  budget: { core: number; graphql: number };
  "installation-created": Webhook;
  "pull-request-webhooks": Webhook[];
  "created-since": Record<number, number>;
  stop: null;
}

export interface RequestEnvelope {
  id: number;
  request: FakeRequest;
}

export interface ResponseEnvelope {
  id: number;
  result?: unknown;
  error?: string;
}
