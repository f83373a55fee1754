import { readFile, writeFile } from "node:fs/promises";
import { RequestError } from "@octokit/request-error";
import dotenv from "dotenv";
import YAML from "yaml";
import type { Config } from "../config.js";
import { InvalidInputError, ServerError } from "../errors.js";
import { requestWithDeadlines } from "./deadlines.js";

export interface AppManifest {
  name: string;
  url: string;
  description?: string | undefined;
  public: boolean;
  hook_attributes: { url: string; active: boolean };
  redirect_url: string;
  callback_urls: string[];
  setup_url: string;
  setup_on_update: boolean;
  default_permissions: Record<string, string>;
  default_events: string[];
}

/** The manifest from app.yml, with the URLs of this deployment filled in. */
export async function buildManifest(config: Config, appYmlPath = "app.yml"): Promise<AppManifest> {
  const fromFile = YAML.parse(await readFile(appYmlPath, "utf8")) as Partial<AppManifest>;
  return {
    name: fromFile.name ?? "PR Pulse",
    url: fromFile.url ?? config.baseUrl,
    description: fromFile.description,
    public: fromFile.public ?? false,
    default_permissions: fromFile.default_permissions ?? {},
    default_events: fromFile.default_events ?? [],
    hook_attributes: { url: config.webhookProxyUrl ?? `${config.baseUrl}/api/github/webhooks`, active: true },
    redirect_url: `${config.baseUrl}/setup/callback`,
    callback_urls: [`${config.baseUrl}/login/callback`],
    setup_url: `${config.baseUrl}/`,
    setup_on_update: true,
  };
}

/** Where the browser posts the manifest: the user's or GH_ORG's "new GitHub App" page. */
export function newAppUrl(config: Config, state: string): string {
  const owner = config.github.org ? `/organizations/${encodeURIComponent(config.github.org)}` : "";
  return `${config.github.webUrl}${owner}/settings/apps/new?state=${encodeURIComponent(state)}`;
}

export interface RegisteredApp {
  id: number;
  slug: string;
  htmlUrl: string;
}

/**
 * Trades the one-time code GitHub redirected back with for the App's credentials and stores them
 * in the env file, as `probot run` does. A refused code is an InvalidInputError; the errors carry
 * neither the code nor Octokit's request (its URL holds the code, redeemable for the App's key).
 */
export async function completeRegistration(config: Config, code: string): Promise<RegisteredApp> {
  let response;
  try {
    const github = requestWithDeadlines(config.github.deadlines);
    response = await github("POST /app-manifests/{code}/conversions", {
      code,
      baseUrl: config.github.apiUrl,
    });
  } catch (error) {
    const status = error instanceof RequestError ? error.status : undefined;
    // No cause attached: Octokit's error holds the code in its request URL.
    if (status === 404 || status === 422)
      throw new InvalidInputError(`GitHub refused the registration code (${status})`);
    throw new ServerError(`GitHub did not convert the manifest (${status ?? "no response"})`, status);
  }
  const data = response.data as {
    id: number;
    slug?: string;
    html_url: string;
    pem: string;
    webhook_secret: string | null;
    client_id: string;
    client_secret: string;
  };
  await updateEnvFile(config.envFile, {
    APP_ID: String(data.id),
    PRIVATE_KEY: data.pem,
    WEBHOOK_SECRET: data.webhook_secret ?? "",
    GITHUB_CLIENT_ID: data.client_id,
    GITHUB_CLIENT_SECRET: data.client_secret,
  });
  return { id: data.id, slug: data.slug ?? String(data.id), htmlUrl: data.html_url };
}

/**
 * Sets keys in a dotenv file and keeps the others. Values are double-quoted with newlines written
 * as \n, which dotenv expands back (a PEM key survives the round trip).
 */
export async function updateEnvFile(path: string, values: Record<string, string>): Promise<void> {
  const existing = await readFile(path, "utf8").catch(() => "");
  const merged = { ...dotenv.parse(existing), ...values };
  const lines = Object.entries(merged).map(([key, value]) => `${key}="${value.replace(/\r?\n/g, "\\n")}"`);
  await writeFile(path, `${lines.join("\n")}\n`, { mode: 0o600 });
}
