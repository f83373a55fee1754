import type { request } from "@octokit/request";
import { RequestError } from "@octokit/request-error";
import type { Config } from "../config.js";
import {
  AppError,
  AuthError,
  InvalidInputError,
  NotFoundError,
  PermissionError,
  ServerError,
} from "../errors.js";
import { requestWithDeadlines } from "./deadlines.js";

/**
 * "Sign in with GitHub" through the App's own OAuth client: the only code that talks to GitHub for
 * sign-in. The user token lives in local variables of signInWithGitHub and is never returned,
 * stored or logged.
 */

export interface OAuthClient {
  clientId: string;
  clientSecret: string;
}

/** Who signed in, and the installations they administer: what the session keeps. */
export interface GitHubSignIn {
  userId: number;
  login: string;
  installationIds: number[];
}

interface UserInstallation {
  id: number;
  account: { id: number; login: string; type?: string } | null;
}

/** GitHub's largest page for /user/installations. */
const PER_PAGE = 100;
/** 1,000 installations is beyond any deployment of this App and bounds a misbehaving API. */
const MAX_PAGES = 10;

/** The App's OAuth client, or undefined while GITHUB_CLIENT_ID / GITHUB_CLIENT_SECRET are unset. */
export function oauthClient(config: Config): OAuthClient | undefined {
  const { clientId, clientSecret } = config.app ?? {};
  return clientId && clientSecret ? { clientId, clientSecret } : undefined;
}

export function callbackUrl(config: Config): string {
  return `${config.baseUrl}/login/callback`;
}

/** GitHub's consent page; it redirects back to /login/callback with a code and this state. */
export function authorizeUrl(config: Config, client: OAuthClient, state: string): string {
  const query = new URLSearchParams({
    client_id: client.clientId,
    redirect_uri: callbackUrl(config),
    state,
  });
  return `${config.github.webUrl}/login/oauth/authorize?${query.toString()}`;
}

/**
 * Trades the callback's one-time code for the user's identity and the installations they may
 * administer here.
 */
export async function signInWithGitHub(
  config: Config,
  client: OAuthClient,
  code: string,
): Promise<GitHubSignIn> {
  // 1. The code becomes a user token (held only in this function).
  const github = requestWithDeadlines(config.github.deadlines);
  const token = await exchangeCode(github, config, client, code);
  const asUser = github.defaults({
    baseUrl: config.github.apiUrl,
    headers: { authorization: `token ${token}` },
  });
  // 2. Who the user is.
  const user = await call("user lookup", () => asUser("GET /user"));
  const { id: userId, login } = user.data as { id: number; login: string };
  // 3. The installations of this App the user can see, kept where they are an admin.
  const installations = await listUserInstallations(asUser);
  const admin = await Promise.all(installations.map((installation) => isAdmin(asUser, installation, userId)));
  return { userId, login, installationIds: installations.filter((_, i) => admin[i]).map(({ id }) => id) };
}

async function exchangeCode(
  github: typeof request,
  config: Config,
  client: OAuthClient,
  code: string,
): Promise<string> {
  const response = await call("token exchange", () =>
    github("POST /login/oauth/access_token", {
      baseUrl: config.github.webUrl,
      headers: { accept: "application/json" },
      client_id: client.clientId,
      client_secret: client.clientSecret,
      code,
      redirect_uri: callbackUrl(config),
    }),
  );
  // GitHub answers 200 with an `error` field when it refuses the code.
  const data = response.data as { access_token?: unknown; error?: unknown };
  if (typeof data.access_token === "string" && data.access_token.length > 0) return data.access_token;
  const reason = typeof data.error === "string" ? data.error : "no access_token";
  if (reason === "bad_verification_code") {
    throw new InvalidInputError("GitHub sign-in code expired or already used");
  }
  throw new AuthError(`GitHub refused the token exchange (${reason})`);
}

async function listUserInstallations(asUser: typeof request): Promise<UserInstallation[]> {
  const all: UserInstallation[] = [];
  for (let page = 1; page <= MAX_PAGES; page++) {
    const response = await call("installation list", () =>
      asUser("GET /user/installations", { per_page: PER_PAGE, page }),
    );
    const { installations } = response.data as { installations: UserInstallation[] };
    all.push(...installations);
    if (installations.length < PER_PAGE) break;
  }
  return all;
}

/** Organization: an active admin membership. Personal account: the user themself. */
async function isAdmin(asUser: typeof request, installation: UserInstallation, userId: number) {
  const account = installation.account;
  if (!account) return false;
  if (account.type === "User") return account.id === userId;
  if (account.type !== "Organization") return false;
  try {
    const response = await call("membership lookup", () =>
      asUser("GET /user/memberships/orgs/{org}", { org: account.login }),
    );
    const membership = response.data as { role?: string; state?: string };
    return membership.role === "admin" && membership.state === "active";
  } catch (error) {
    // Not a member, or the org hides memberships from this token (SSO): not an admin here.
    if (error instanceof NotFoundError || error instanceof PermissionError) return false;
    throw error;
  }
}

async function call<T>(step: string, send: () => Promise<T>): Promise<T> {
  try {
    return await send();
  } catch (error) {
    throw toSignInError(step, error);
  }
}

/**
 * Deliberately without `cause`: Octokit's error keeps the request, whose body holds the code and
 * client secret, and the error handler logs causes.
 */
function toSignInError(step: string, error: unknown): AppError {
  if (error instanceof AppError) return error;
  const status = error instanceof RequestError ? error.status : undefined;
  const message = `GitHub ${step} failed${status ? ` (HTTP ${status})` : ""}`;
  if (status === 401) return new AuthError(message);
  if (status === 403) return new PermissionError(message);
  if (status === 404) return new NotFoundError(message);
  return new ServerError(message, status);
}
