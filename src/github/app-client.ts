import type { Logger } from "pino";
import type { Probot, ProbotOctokit } from "probot";
import { NotFoundError } from "../errors.js";
import { toAppError } from "./client.js";

/** One attempt GitHub made to deliver a webhook to the App (GET /app/hook/deliveries). */
export interface HookDelivery {
  /** The attempt's id: what a redelivery request names. */
  id: number;
  /** X-GitHub-Delivery: shared by a delivery and all its redeliveries. */
  guid: string;
  deliveredAt: Date;
  redelivery: boolean;
  /** The receiver's HTTP status; 0 (or absent) when it could not be reached. */
  statusCode: number;
  event: string;
  action: string | null;
  installationId: number | null;
  repositoryId: number | null;
}

export interface HookDeliveryPage {
  deliveries: HookDelivery[];
  /** The `cursor` of the next (older) page, from the Link header; null on the last page. */
  nextCursor: string | null;
}

/** What GitHub says about an installation when asked as the App. */
export type InstallationAccess =
  | { state: "active"; accountLogin: string | null }
  | { state: "suspended"; suspendedAt: Date }
  | { state: "gone" };

/** One installation of the App as GitHub lists it (GET /app/installations). */
export interface ListedInstallation {
  id: number;
  /** Null for an installation on an account that is neither a user nor an organization (an enterprise). */
  account: { id: number; login: string; type: "User" | "Organization" } | null;
  repositorySelection: "all" | "selected";
  suspendedAt: Date | null;
}

/** GitHub's page size cap for the deliveries list. */
const MAX_PER_PAGE = 100;

interface RawHookDelivery {
  id: number;
  guid: string;
  delivered_at: string;
  redelivery: boolean;
  status_code?: number | null;
  event: string;
  action?: string | null;
  installation_id?: number | null;
  repository_id?: number | null;
}

/**
 * GitHub as the App itself (App JWT, not an installation token): the App's webhook deliveries
 * and the state of its installations. Like GitHubClient, the only code that calls these endpoints;
 * failures become the typed errors of src/errors.ts.
 */
export class GitHubAppClient {
  constructor(
    private readonly octokit: ProbotOctokit,
    private readonly log: Logger,
  ) {}

  /** One page of the App's recent delivery attempts, newest first. */
  async listHookDeliveries(cursor: string | null): Promise<HookDeliveryPage> {
    try {
      const response = await this.octokit.request("GET /app/hook/deliveries", {
        per_page: MAX_PER_PAGE,
        ...(cursor ? { cursor } : {}),
      });
      const items = response.data as unknown as RawHookDelivery[];
      return {
        deliveries: items.map(toHookDelivery),
        nextCursor: nextCursorFrom(response.headers.link),
      };
    } catch (error) {
      throw toAppError(error);
    }
  }

  /** Asks GitHub to send a delivery attempt again (same GUID, `redelivery: true`). */
  async redeliver(hookDeliveryId: number): Promise<void> {
    try {
      await this.octokit.request("POST /app/hook/deliveries/{delivery_id}/attempts", {
        delivery_id: hookDeliveryId,
      });
    } catch (error) {
      throw toAppError(error);
    }
  }

  /** Every installation of the App, 100 a page. */
  async listInstallations(): Promise<ListedInstallation[]> {
    try {
      const installations = await this.octokit.paginate("GET /app/installations", { per_page: MAX_PER_PAGE });
      return installations.map(toListedInstallation);
    } catch (error) {
      throw toAppError(error);
    }
  }

  /**
   * Whether the App is still installed, and not suspended: the fact behind an installation token
   * that stopped working.
   */
  async getInstallationAccess(installationId: number): Promise<InstallationAccess> {
    try {
      const { data } = await this.octokit.request("GET /app/installations/{installation_id}", {
        installation_id: installationId,
      });
      if (data.suspended_at) return { state: "suspended", suspendedAt: new Date(data.suspended_at) };
      const account = data.account as { login?: string } | null;
      return { state: "active", accountLogin: account?.login ?? null };
    } catch (error) {
      const mapped = toAppError(error);
      if (mapped instanceof NotFoundError) {
        this.log.info({ installationId }, "github no longer knows the installation");
        return { state: "gone" };
      }
      throw mapped;
    }
  }
}

export type GitHubAppClientFactory = (log: Logger) => Promise<GitHubAppClient>;

/** Probot signs a fresh App JWT for each client (they live ten minutes). */
export function createGitHubAppClientFactory(probot: Probot): GitHubAppClientFactory {
  return async (log) => new GitHubAppClient(await probot.auth(), log);
}

function toListedInstallation(raw: {
  id: number;
  account: { id?: number; login?: string; type?: string } | null;
  repository_selection: "all" | "selected";
  suspended_at: string | null;
}): ListedInstallation {
  const { account } = raw;
  const known =
    account &&
    typeof account.id === "number" &&
    account.login &&
    (account.type === "User" || account.type === "Organization");
  return {
    id: raw.id,
    account: known
      ? { id: account.id!, login: account.login!, type: account.type as "User" | "Organization" }
      : null,
    repositorySelection: raw.repository_selection,
    suspendedAt: raw.suspended_at ? new Date(raw.suspended_at) : null,
  };
}

function toHookDelivery(raw: RawHookDelivery): HookDelivery {
  return {
    id: raw.id,
    guid: raw.guid,
    deliveredAt: new Date(raw.delivered_at),
    redelivery: Boolean(raw.redelivery),
    statusCode: typeof raw.status_code === "number" ? raw.status_code : 0,
    event: raw.event,
    action: raw.action ?? null,
    installationId: raw.installation_id ?? null,
    repositoryId: raw.repository_id ?? null,
  };
}

/** `<…?per_page=100&cursor=v1_123>; rel="next"` → `v1_123`. */
function nextCursorFrom(link: string | undefined): string | null {
  if (!link) return null;
  for (const part of link.split(",")) {
    const match = /<([^>]+)>\s*;\s*rel="next"/.exec(part);
    if (!match) continue;
    try {
      return new URL(match[1]!).searchParams.get("cursor");
    } catch {
      return null;
    }
  }
  return null;
}
