/**
 * Webhook deliveries shaped like GitHub's (structure of @octokit/webhooks-examples), filled from
 * the world, and delivered with GitHub's headers and an HMAC over the exact body bytes.
 */
import { createHmac, randomUUID } from "node:crypto";
import {
  GITHUB_URLS,
  installationJson,
  organizationJson,
  pullJson,
  repoJson,
  repoSummaryJson,
  reviewJson,
  teamJson,
  userJson,
} from "./shapes.js";
import type { Json, JsonObject, Urls } from "./shapes.js";
import type { HookDeliveryRecord, Installation, Repo, Team, User, World } from "./world.js";

export interface WebhookActions {
  installation: "created" | "deleted" | "suspend" | "unsuspend" | "new_permissions_accepted";
  installation_repositories: "added" | "removed";
  repository: "renamed" | "transferred" | "archived" | "unarchived" | "deleted";
  organization: "member_added" | "member_removed";
  pull_request:
    | "opened"
    | "edited"
    | "closed"
    | "reopened"
    | "synchronize"
    | "ready_for_review"
    | "converted_to_draft"
    | "labeled"
    | "unlabeled";
  pull_request_review: "submitted" | "edited" | "dismissed";
  team: "created" | "deleted" | "edited";
  membership: "added" | "removed";
}
export type WebhookEvent = keyof WebhookActions;

export interface WebhookRefs {
  /** Defaults to the first installation that can see `repoId`. */
  installationId?: number;
  repoId?: number;
  prId?: number;
  reviewId?: number;
  /** The member for organization and membership events. */
  userId?: number;
  /** The team of team and membership events (a deleted one too). */
  teamId?: number;
  /** membership events: GitHub sends "organization" when someone left the organization. */
  scope?: "team" | "organization";
  /** Who acted; defaults to the PR/review author, the member, or the account's first member. */
  senderId?: number;
  /** installation_repositories added/removed, and the repositories of installation events. */
  repoIds?: number[];
  /** Passed through as `changes` (edited, renamed, transferred). */
  changes?: JsonObject;
  /** labeled/unlabeled: the label added or removed (world.setLabel first, as GitHub changes it first). */
  label?: string;
  /** synchronize: head shas before and after the push. */
  before?: string;
  after?: string;
}

export interface Webhook {
  name: WebhookEvent;
  /** The delivery GUID (x-github-delivery). */
  id: string;
  payload: JsonObject;
}

export function buildWebhook<E extends WebhookEvent>(
  world: World,
  event: E,
  action: WebhookActions[E],
  refs: WebhookRefs = {},
  urls: Urls = GITHUB_URLS,
): Webhook {
  const builder = new PayloadBuilder(world, refs, urls);
  const payload = builder.build(event, action);
  return { name: event, id: randomUUID(), payload };
}

class PayloadBuilder {
  constructor(
    readonly world: World,
    readonly refs: WebhookRefs,
    readonly urls: Urls,
  ) {}

  build(event: WebhookEvent, action: string): JsonObject {
    switch (event) {
      case "installation":
        return this.installationEvent(action);
      case "installation_repositories":
        return this.installationRepositoriesEvent(action);
      case "repository":
        return this.repositoryEvent(action);
      case "organization":
        return this.organizationEvent(action);
      case "pull_request":
        return this.pullRequestEvent(action);
      case "pull_request_review":
        return this.pullRequestReviewEvent(action);
      case "team":
        return this.teamEvent(action);
      case "membership":
        return this.membershipEvent(action);
    }
  }

  /** team.created / deleted / edited: the team as it is (as it was, once deleted). */
  teamEvent(action: string): JsonObject {
    const { team, org, installation } = this.teamContext();
    const payload: JsonObject = { action };
    if (action === "edited") payload["changes"] = this.refs.changes ?? {};
    payload["team"] = teamJson(this.world, team, this.urls);
    payload["organization"] = organizationJson(org, this.urls);
    payload["sender"] = this.sender(installation);
    payload["installation"] = installationRef(installation);
    return payload;
  }

  /** membership.added / removed: a user joined or left a team (a deleted team is only its id and name). */
  membershipEvent(action: string): JsonObject {
    const { team, org, installation } = this.teamContext();
    const member = this.user(this.refs.userId);
    if (member === undefined) throw new Error("membership events need a userId");
    const deleted = this.world.getTeam(team.id) === undefined;
    return {
      action,
      scope: this.refs.scope ?? "team",
      member: userJson(member, this.urls),
      sender: this.sender(installation, member),
      team: deleted ? { id: team.id, name: team.name, deleted: true } : teamJson(this.world, team, this.urls),
      organization: organizationJson(org, this.urls),
      installation: installationRef(installation),
    };
  }

  teamContext(): {
    team: Team;
    org: NonNullable<ReturnType<World["getAccount"]>>;
    installation: Installation;
  } {
    const id = this.refs.teamId;
    const team = id === undefined ? undefined : (this.world.getTeam(id) ?? this.world.deletedTeams.get(id));
    if (team === undefined) throw new Error("team and membership events need a teamId");
    const org = this.world.accounts.get(team.orgId);
    if (org === undefined) throw new Error(`team ${team.id} has no organization`);
    const installation =
      this.refs.installationId === undefined
        ? [...this.world.installations.values()].find((candidate) => candidate.accountId === org.id)
        : this.installation();
    if (installation === undefined) throw new Error(`no installation on ${org.login}`);
    return { team, org, installation };
  }

  installationEvent(action: string): JsonObject {
    const installation = this.installation();
    const payload: JsonObject = {
      action,
      installation: installationJson(this.world, installation, this.urls),
    };
    // GitHub lists the repositories on created/deleted/new_permissions_accepted only.
    if (action === "created" || action === "deleted" || action === "new_permissions_accepted") {
      payload["repositories"] = this.repos(this.refs.repoIds ?? installation.repoIds).map(repoSummaryJson);
    }
    if (action === "created") payload["requester"] = null;
    payload["sender"] = this.sender(installation);
    return payload;
  }

  installationRepositoriesEvent(action: string): JsonObject {
    const installation = this.installation();
    const changed = this.repos(this.refs.repoIds ?? []).map(repoSummaryJson);
    return {
      action,
      installation: installationJson(this.world, installation, this.urls),
      repository_selection: installation.repositorySelection,
      repositories_added: action === "added" ? changed : [],
      repositories_removed: action === "removed" ? changed : [],
      requester: null,
      sender: this.sender(installation),
    };
  }

  repositoryEvent(action: string): JsonObject {
    const repo = this.repo();
    const payload: JsonObject = { action };
    if (this.refs.changes !== undefined) payload["changes"] = this.refs.changes;
    payload["repository"] = repoJson(this.world, repo, this.urls);
    return this.withContext(payload, repo);
  }

  organizationEvent(action: string): JsonObject {
    const installation = this.installation();
    const org = this.world.accounts.get(installation.accountId);
    const member = this.user(this.refs.userId);
    if (org === undefined || member === undefined)
      throw new Error("organization events need an org and userId");
    return {
      action,
      membership: {
        url: `${this.urls.api}/orgs/${org.login}/memberships/${member.login}`,
        state: "active",
        role: "member",
        organization_url: `${this.urls.api}/orgs/${org.login}`,
        user: userJson(member, this.urls),
      },
      organization: organizationJson(org, this.urls),
      installation: installationRef(installation),
      sender: this.sender(installation, member),
    };
  }

  pullRequestEvent(action: string): JsonObject {
    const pr = this.pullRequest();
    const repo = this.repo(pr.repoId);
    const payload: JsonObject = { action, number: pr.number };
    if (action === "edited") payload["changes"] = this.refs.changes ?? {};
    if (action === "labeled" || action === "unlabeled") {
      payload["label"] = { name: this.refs.label ?? "", color: "ededed", default: false, description: null };
    }
    payload["pull_request"] = pullJson(this.world, pr, this.urls, true);
    if (action === "synchronize") {
      payload["before"] = this.refs.before ?? pr.commits[pr.commits.length - 2]?.sha ?? "0".repeat(40);
      payload["after"] = this.refs.after ?? pr.commits[pr.commits.length - 1]?.sha ?? "0".repeat(40);
    }
    payload["repository"] = repoJson(this.world, repo, this.urls);
    return this.withContext(payload, repo, this.user(pr.authorId));
  }

  pullRequestReviewEvent(action: string): JsonObject {
    const pr = this.pullRequest();
    const repo = this.repo(pr.repoId);
    const review = this.refs.reviewId === undefined ? undefined : this.world.getReview(this.refs.reviewId);
    if (review === undefined || review.pullRequest.id !== pr.id)
      throw new Error("pull_request_review needs reviewId");
    const payload: JsonObject = { action };
    if (action === "edited") payload["changes"] = this.refs.changes ?? {};
    payload["review"] = reviewJson(this.world, pr, review.review, this.urls, "lower");
    payload["pull_request"] = pullJson(this.world, pr, this.urls, true);
    payload["repository"] = repoJson(this.world, repo, this.urls);
    return this.withContext(payload, repo, this.user(review.review.authorId));
  }

  /** organization (for org-owned repos), installation and sender, in GitHub's order. */
  withContext(payload: JsonObject, repo: Repo, fallbackSender?: User): JsonObject {
    const org = this.world.getAccount(repo.ownerLogin);
    if (org?.type === "Organization") payload["organization"] = organizationJson(org, this.urls);
    const installation = this.installation(repo.id);
    payload["installation"] = installationRef(installation);
    payload["sender"] = this.sender(installation, fallbackSender);
    return payload;
  }

  installation(repoId = this.refs.repoId): Installation {
    const { world, refs } = this;
    const byId =
      refs.installationId === undefined
        ? undefined
        : (world.getInstallation(refs.installationId) ?? world.deletedInstallations.get(refs.installationId));
    const installation =
      byId ??
      (repoId === undefined ? undefined : world.installationsForRepo(repoId)[0]) ??
      (refs.prId === undefined
        ? undefined
        : world.installationsForRepo(world.getPullRequest(refs.prId)?.repoId ?? -1)[0]);
    if (installation === undefined)
      throw new Error("webhook needs an installationId (or a repo an installation sees)");
    return installation;
  }

  repo(repoId = this.refs.repoId ?? this.world.getPullRequest(this.refs.prId ?? -1)?.repoId): Repo {
    const repo =
      repoId === undefined ? undefined : (this.world.getRepo(repoId) ?? this.world.deletedRepos.get(repoId));
    if (repo === undefined) throw new Error("webhook needs a repoId");
    return repo;
  }

  repos(ids: number[]): Repo[] {
    return ids.flatMap((id) => {
      const repo = this.world.getRepo(id) ?? this.world.deletedRepos.get(id);
      return repo === undefined ? [] : [repo];
    });
  }

  pullRequest(): NonNullable<ReturnType<World["getPullRequest"]>> {
    const pr = this.refs.prId === undefined ? undefined : this.world.getPullRequest(this.refs.prId);
    if (pr === undefined) throw new Error("pull_request events need a prId");
    return pr;
  }

  user(id: number | undefined): User | undefined {
    return id === undefined ? undefined : this.world.getUser(id);
  }

  sender(installation: Installation, fallback?: User): Json {
    const account = this.world.accounts.get(installation.accountId);
    const firstMember = account?.memberIds[0];
    const user = this.user(this.refs.senderId) ?? fallback ?? this.user(firstMember);
    if (user !== undefined) return userJson(user, this.urls);
    return {
      login: account?.login ?? "ghost",
      id: account?.id ?? 0,
      node_id: account?.nodeId ?? "",
      type: "User",
    };
  }
}

/** The `installation` stub GitHub puts on repository-scoped events. */
function installationRef(installation: Installation): JsonObject {
  // GitHub's legacy node id for installations: base64("023:IntegrationInstallation<id>").
  const nodeId = Buffer.from(`023:IntegrationInstallation${installation.id}`).toString("base64");
  return { id: installation.id, node_id: nodeId };
}

export interface Delivery {
  url: string;
  secret: string;
  name: string;
  id: string;
  payload: unknown;
  /** Sent as x-github-hook-installation-target-id, like GitHub does for App webhooks. */
  appId?: number;
}

/**
 * POSTs a delivery the way GitHub's Hookshot does; returns the receiver's status and body. With
 * `record`, the attempt is recorded in that world (GET /app/hook/deliveries lists it, and it can be
 * redelivered), and a receiver that cannot be reached is an attempt with status 0, as on GitHub.
 */
export async function deliverWebhook(
  delivery: Delivery,
  record?: { world: World; redelivery?: boolean },
): Promise<{ status: number; body: string }> {
  if (record === undefined) return post(delivery);
  const started = Date.now();
  let result: { status: number; body: string };
  let status: string;
  try {
    result = await post(delivery);
    status = result.status >= 200 && result.status < 300 ? "OK" : `Invalid HTTP Response: ${result.status}`;
  } catch {
    result = { status: 0, body: "" };
    status = "failed to connect to host";
  }
  const payload = (delivery.payload ?? {}) as {
    action?: unknown;
    installation?: { id?: unknown };
    repository?: { id?: unknown };
  };
  record.world.recordHookDelivery({
    guid: delivery.id,
    deliveredAt: new Date(started).toISOString().replace(/\.\d{3}Z$/, "Z"),
    redelivery: record.redelivery ?? false,
    duration: (Date.now() - started) / 1000,
    status,
    statusCode: result.status,
    event: delivery.name,
    action: typeof payload.action === "string" ? payload.action : null,
    installationId: typeof payload.installation?.id === "number" ? payload.installation.id : null,
    repositoryId: typeof payload.repository?.id === "number" ? payload.repository.id : null,
    appId: delivery.appId ?? null,
    sent: { url: delivery.url, secret: delivery.secret, payload: delivery.payload },
  });
  return result;
}

/** Sends an attempt again, as GitHub does on POST /app/hook/deliveries/:id/attempts. */
export async function redeliverWebhook(world: World, attempt: HookDeliveryRecord): Promise<void> {
  const url = (attempt.appId === null ? undefined : world.hookUrls.get(attempt.appId)) ?? attempt.sent.url;
  await deliverWebhook(
    {
      url,
      secret: attempt.sent.secret,
      name: attempt.event,
      id: attempt.guid,
      payload: attempt.sent.payload,
      ...(attempt.appId === null ? {} : { appId: attempt.appId }),
    },
    { world, redelivery: true },
  );
}

async function post(delivery: Delivery): Promise<{ status: number; body: string }> {
  const body = JSON.stringify(delivery.payload);
  const sign = (algorithm: "sha1" | "sha256"): string =>
    `${algorithm}=${createHmac(algorithm, delivery.secret).update(body, "utf8").digest("hex")}`;
  const response = await fetch(delivery.url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "user-agent": "GitHub-Hookshot/fake",
      "x-github-event": delivery.name,
      "x-github-delivery": delivery.id,
      "x-github-hook-id": "1",
      "x-github-hook-installation-target-type": "integration",
      ...(delivery.appId === undefined
        ? {}
        : { "x-github-hook-installation-target-id": String(delivery.appId) }),
      "x-hub-signature": sign("sha1"),
      "x-hub-signature-256": sign("sha256"),
    },
    body,
  });
  return { status: response.status, body: await response.text() };
}
