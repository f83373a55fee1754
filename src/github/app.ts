import type { ApplicationFunction } from "probot";
import type { HandlerDeps } from "./handlers/deps.js";
import {
  createInstallationDeletedHandler,
  createInstallationSuspendHandler,
  createInstallationUpsertHandler,
} from "./handlers/installation.js";
import { createInstallationRepositoriesHandler } from "./handlers/installation-repositories.js";
import { createOrganizationMemberHandler } from "./handlers/organization.js";
import { createPullRequestReviewHandler } from "./handlers/pull-request-review.js";
import { createPullRequestHandler } from "./handlers/pull-request.js";
import { createRepositoryHandler } from "./handlers/repository.js";

/** Every event.action the App handles. Anything else is recorded at intake and ignored. */
export const handledEvents = [
  "installation.created",
  "installation.deleted",
  "installation.suspend",
  "installation.unsuspend",
  "installation.new_permissions_accepted",
  "installation_repositories.added",
  "installation_repositories.removed",
  "repository.renamed",
  "repository.transferred",
  "repository.archived",
  "repository.unarchived",
  "repository.deleted",
  "organization.member_added",
  "organization.member_removed",
  "pull_request.opened",
  "pull_request.edited",
  "pull_request.closed",
  "pull_request.reopened",
  "pull_request.synchronize",
  "pull_request.ready_for_review",
  "pull_request.converted_to_draft",
  "pull_request_review.submitted",
  "pull_request_review.edited",
  "pull_request_review.dismissed",
] as const;

const handled = new Set<string>(handledEvents);

export function isHandledEvent(event: string, action: string | null | undefined): boolean {
  return handled.has(action ? `${event}.${action}` : event);
}

export function createApp(deps: HandlerDeps): ApplicationFunction {
  return (app) => {
    const upsertInstallation = createInstallationUpsertHandler(deps);
    app.on(
      ["installation.created", "installation.new_permissions_accepted", "installation.unsuspend"],
      upsertInstallation,
    );
    app.on("installation.deleted", createInstallationDeletedHandler(deps));
    app.on("installation.suspend", createInstallationSuspendHandler(deps));
    app.on(
      ["installation_repositories.added", "installation_repositories.removed"],
      createInstallationRepositoriesHandler(deps),
    );
    app.on(
      [
        "repository.renamed",
        "repository.transferred",
        "repository.archived",
        "repository.unarchived",
        "repository.deleted",
      ],
      createRepositoryHandler(deps),
    );
    app.on(
      ["organization.member_added", "organization.member_removed"],
      createOrganizationMemberHandler(deps),
    );
    app.on(
      [
        "pull_request.opened",
        "pull_request.edited",
        "pull_request.closed",
        "pull_request.reopened",
        "pull_request.synchronize",
        "pull_request.ready_for_review",
        "pull_request.converted_to_draft",
      ],
      createPullRequestHandler(deps),
    );
    app.on(
      ["pull_request_review.submitted", "pull_request_review.edited", "pull_request_review.dismissed"],
      createPullRequestReviewHandler(deps),
    );
  };
}
