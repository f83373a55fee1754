import type { EmitterWebhookEventName } from "@octokit/webhooks";
import type { ApplicationFunction, Probot } from "probot";
import { InvalidInputError } from "../errors.js";
import type { HandlerDeps } from "./handlers/deps.js";
import { handleInstallationRepositories } from "./handlers/installation-repositories.js";
import { handleInstallation } from "./handlers/installation.js";
import { handleMembership } from "./handlers/membership.js";
import { handleOrganization } from "./handlers/organization.js";
import { handlePullRequestReview } from "./handlers/pull-request-review.js";
import { handlePullRequest } from "./handlers/pull-request.js";
import { handleRepository } from "./handlers/repository.js";
import { handleTeam } from "./handlers/team.js";
import { handledActions, payloadSchemas, type HandledEvent, type PayloadOf } from "./payloads.js";

type Handler<E extends HandledEvent> = (deps: HandlerDeps, payload: PayloadOf<E>) => Promise<void>;

// Every handled event.action is one GitHub sends: a misspelt action in a payload schema does not compile.
type HandledEventActions = { [E in HandledEvent]: `${E}.${PayloadOf<E>["action"]}` }[HandledEvent];
type Assert<T extends true> = T;
export type ActionsAreGitHubEvents = Assert<
  HandledEventActions extends EmitterWebhookEventName ? true : false
>;

/**
 * Which handler takes which event; the actions handled are those of the event's payload schema
 * (src/webhooks/payloads.ts). A handler gets the payload parsed by that schema, typed for its event:
 * pairing a handler with another event's payload does not compile.
 */
function attachHandlers(app: Probot, deps: HandlerDeps): void {
  on(app, deps, "installation", handleInstallation);
  on(app, deps, "installation_repositories", handleInstallationRepositories);
  on(app, deps, "repository", handleRepository);
  on(app, deps, "organization", handleOrganization);
  on(app, deps, "pull_request", handlePullRequest);
  on(app, deps, "pull_request_review", handlePullRequestReview);
  on(app, deps, "team", handleTeam);
  on(app, deps, "membership", handleMembership);
}

function on<E extends HandledEvent>(app: Probot, deps: HandlerDeps, event: E, handler: Handler<E>): void {
  const schema = payloadSchemas[event];
  const events = handledActions(event).map((action) => `${event}.${action}`) as EmitterWebhookEventName[];
  app.on(events, async (context) => {
    const parsed = schema.safeParse(context.payload);
    // Intake refuses payloads that do not match; one stored before this check existed is refused here.
    if (!parsed.success) throw new InvalidInputError(`${event} payload does not match its schema`);
    await handler(deps, parsed.data as PayloadOf<E>);
  });
}

export function createWebhookApp(deps: HandlerDeps): ApplicationFunction {
  return (app) => attachHandlers(app, deps);
}
