import type { EmitterWebhookEventName as EventName } from "@octokit/webhooks";
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

// Each factory's handler is typed for its own events; Probot checks that pairing at app.on.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type HandlerFactory = (deps: HandlerDeps) => (context: any) => Promise<void>;

/** Which handler takes which event.action. The only list of handled events. */
const routes: [EventName[], HandlerFactory][] = [
  [
    ["installation.created", "installation.new_permissions_accepted", "installation.unsuspend"],
    createInstallationUpsertHandler,
  ],
  [["installation.deleted"], createInstallationDeletedHandler],
  [["installation.suspend"], createInstallationSuspendHandler],
  [
    ["installation_repositories.added", "installation_repositories.removed"],
    createInstallationRepositoriesHandler,
  ],
  [
    [
      "repository.renamed",
      "repository.transferred",
      "repository.archived",
      "repository.unarchived",
      "repository.deleted",
    ],
    createRepositoryHandler,
  ],
  [["organization.member_added", "organization.member_removed"], createOrganizationMemberHandler],
  [
    [
      "pull_request.opened",
      "pull_request.edited",
      "pull_request.closed",
      "pull_request.reopened",
      "pull_request.synchronize",
      "pull_request.ready_for_review",
      "pull_request.converted_to_draft",
    ],
    createPullRequestHandler,
  ],
  [
    ["pull_request_review.submitted", "pull_request_review.edited", "pull_request_review.dismissed"],
    createPullRequestReviewHandler,
  ],
];

/** Every event.action the App handles. Anything else is recorded at intake and ignored. */
export const handledEvents: readonly string[] = routes.flatMap(([events]) => events);

const handled = new Set<string>(handledEvents);

export function isHandledEvent(event: string, action: string | null | undefined): boolean {
  return handled.has(action ? `${event}.${action}` : event);
}

export function createApp(deps: HandlerDeps): ApplicationFunction {
  return (app) => {
    for (const [events, factory] of routes) app.on(events, factory(deps));
  };
}
