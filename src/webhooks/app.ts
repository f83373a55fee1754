import type { EmitterWebhookEventName } from "@octokit/webhooks";
import type { ApplicationFunction, Probot } from "probot";
import { InvalidInputError } from "../errors.js";
import type { HandlerDeps } from "./handlers/deps.js";
import { handleInstallationRepositories } from "./handlers/installation-repositories.js";
import { handleInstallation } from "./handlers/installation.js";
import { handleMembership } from "./handlers/membership.js";
import { handleOrganization } from "./handlers/organization.js";
import type { PullRequestActivity } from "./handlers/pull-request-activity.js";
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
 * How an event is handled: by its handler, one delivery at a time (through Probot), or as pull
 * request activity, which the webhook worker applies a batch at a time as one set
 * (src/webhooks/handlers/pull-request-activity.ts).
 */
type Route<E extends HandledEvent> =
  { handle: Handler<E> } | { activity: (payload: PayloadOf<E>) => PullRequestActivity };

/**
 * Which handler takes which event; the actions handled are those of the event's payload schema
 * (src/webhooks/payloads.ts). A handler gets the payload parsed by that schema, typed for its event:
 * pairing a handler with another event's payload does not compile.
 */
const routes: { [E in HandledEvent]: Route<E> } = {
  installation: { handle: handleInstallation },
  installation_repositories: { handle: handleInstallationRepositories },
  repository: { handle: handleRepository },
  organization: { handle: handleOrganization },
  team: { handle: handleTeam },
  membership: { handle: handleMembership },
  // Nearly all of the traffic.
  pull_request: { activity: (payload) => ({ event: "pull_request", payload }) },
  pull_request_review: { activity: (payload) => ({ event: "pull_request_review", payload }) },
};

/** The payload parsed by its event's schema; one stored before intake checked it is refused here. */
function parsePayload<E extends HandledEvent>(event: E, payload: unknown): PayloadOf<E> {
  const parsed = payloadSchemas[event].safeParse(payload);
  if (!parsed.success) throw new InvalidInputError(`${event} payload does not match its schema`);
  return parsed.data as PayloadOf<E>;
}

function isHandled(event: string, payload: unknown): event is HandledEvent {
  const action = (payload as { action?: unknown } | null)?.action;
  return (
    Object.hasOwn(routes, event) &&
    typeof action === "string" &&
    handledActions(event as HandledEvent).includes(action)
  );
}

/**
 * A stored delivery as pull request activity, or undefined for a delivery of another event (or an
 * action nobody handles): those go through Probot one by one. Throws InvalidInputError for a
 * payload that does not match its event.
 */
export function readActivity(event: string, payload: unknown): PullRequestActivity | undefined {
  return isHandled(event, payload) ? activityOf(event, payload) : undefined;
}

function activityOf<E extends HandledEvent>(event: E, payload: unknown): PullRequestActivity | undefined {
  const route: Route<E> = routes[event];
  return "activity" in route ? route.activity(parsePayload(event, payload)) : undefined;
}

function attachHandlers(app: Probot, deps: HandlerDeps): void {
  for (const event of Object.keys(routes) as HandledEvent[]) on(app, deps, event);
}

function on<E extends HandledEvent>(app: Probot, deps: HandlerDeps, event: E): void {
  const route: Route<E> = routes[event];
  if (!("handle" in route)) return;
  const events = handledActions(event).map((action) => `${event}.${action}`) as EmitterWebhookEventName[];
  app.on(events, (context) => route.handle(deps, parsePayload(event, context.payload)));
}

export function createWebhookApp(deps: HandlerDeps): ApplicationFunction {
  return (app) => attachHandlers(app, deps);
}
