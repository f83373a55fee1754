import { z } from "zod";
import { cleanText } from "../text.js";

/**
 * The shape of every handled event's payload: the fields the handlers read, with the names and
 * types of @octokit/webhooks' payload types. GitHub signs the body but not the X-GitHub-Event
 * header, so intake checks the body against the schema of the event it claims to be before it is
 * stored as processable: a signed repository.deleted body replayed as `installation` lacks the
 * installation's account and is refused, not processed as an uninstall.
 *
 * Fields a schema does not name are accepted (and dropped): GitHub adds fields to its payloads
 * without notice, and a delivery refused for one is a delivery lost. What tells apart the events
 * whose bodies are otherwise alike is the field that names what the other event is about: a
 * signed `label.deleted` body has an installation, a repository and action "deleted", just like
 * `repository.deleted`, and only its `label` says it is not one. So each schema refuses the
 * subject fields of every other event (OTHER_EVENT_SUBJECTS) besides requiring its own shape.
 */

/** A GitHub database id: stored as bigint, read as a JavaScript number, so a safe integer. */
const id = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);
/** A pull request number, stored as a Postgres integer. */
const pullRequestNumber = z.number().int().positive().max(2_147_483_647);
/**
 * GitHub's timestamps: ISO 8601 with a zone, in years Postgres and JavaScript agree on (Date.parse
 * alone accepts "1" and year 275760, which Postgres refuses).
 */
const timestamp = z.string().refine(isGitHubTimestamp, "not an ISO 8601 timestamp");
const text = z.string();
const name = z.string().min(1);

export const accountSchema = z.object({
  id,
  login: name,
  type: z.enum(["User", "Organization"]),
});
export type PayloadAccount = z.infer<typeof accountSchema>;

/** An event's `organization`: GitHub's organization-simple, which has no `type`. */
const organizationSchema = z.object({ id, login: name });

const userSchema = z.object({
  id,
  login: name,
  type: z.string().optional(),
});
export type PayloadUser = z.infer<typeof userSchema>;

/** Repositories as installation events list them. */
const listedRepositorySchema = z.object({
  id,
  node_id: name.optional(),
  full_name: name,
  private: z.boolean().optional(),
});

export const repositorySchema = listedRepositorySchema.extend({
  archived: z.boolean().optional(),
  default_branch: z.string().optional(),
  owner: z.object({ id, login: name, type: z.string().optional() }).nullable(),
});
export type PayloadRepository = z.infer<typeof repositorySchema>;
export type PayloadRepositoryFacts = z.infer<typeof listedRepositorySchema> &
  Partial<Pick<PayloadRepository, "archived" | "default_branch">>;

const installationRef = z.object({ id });

const installationSchema = z.object({
  id,
  account: accountSchema,
  repository_selection: z.enum(["all", "selected"]).optional(),
  suspended_at: timestamp.nullable().optional(),
});

/**
 * The top-level field that names what an event is about, for every GitHub event with an action
 * (from @octokit/openapi-webhooks-types): `label` for label.*, `issue` for issues.* and
 * issue_comment.*, `review` for pull_request_review.*... A payload of a handled event carries
 * none of them but those its own schema names, so one of them present marks another event.
 * Fields common to many events (action, sender, installation, organization, repository,
 * enterprise, changes) and generic names (ref, state, number...) are not markers: GitHub may add
 * them to any event.
 */
export const OTHER_EVENT_SUBJECTS = [
  "alert",
  "answer",
  "assignee",
  "blocked_issue",
  "blocked_user",
  "blocking_issue",
  "check_run",
  "check_suite",
  // repository_dispatch: its action is whatever the sender chose, "deleted" or "renamed" too.
  "client_payload",
  "comment",
  "definition",
  "deployment",
  "deployment_status",
  "discussion",
  "hook",
  "hook_id",
  "invitation",
  "issue",
  "key",
  "label",
  "marketplace_purchase",
  "member",
  "membership",
  "merge_group",
  "milestone",
  "package",
  "parent_issue",
  "personal_access_token_request",
  "project",
  "project_card",
  "project_column",
  "projects_v2",
  "projects_v2_item",
  "projects_v2_status_update",
  "pull_request",
  "registry_package",
  "release",
  "repositories",
  "repositories_added",
  "repositories_removed",
  "repository_advisory",
  "repository_ruleset",
  "requested_action",
  "requested_reviewer",
  "requested_team",
  "review",
  "rule",
  "security_advisory",
  "sponsorship",
  "starred_at",
  "sub_issue",
  "target_type",
  "team",
  "thread",
  "workflow_job",
  "workflow_run",
] as const;

/** Present, a field that marks another event: refused with this reason. */
const markerOfAnotherEvent = z.never({ error: "a field of another event" }).optional();

/**
 * An event's schema: its own fields as given, any other field accepted and dropped, except the
 * subject fields of other events.
 */
function eventSchema<Shape extends z.ZodRawShape>(shape: Shape) {
  const markers = OTHER_EVENT_SUBJECTS.filter((key) => !Object.hasOwn(shape, key));
  return z.object({
    ...shape,
    ...(Object.fromEntries(markers.map((key) => [key, markerOfAnotherEvent])) as Record<
      Exclude<(typeof OTHER_EVENT_SUBJECTS)[number], keyof Shape>,
      typeof markerOfAnotherEvent
    >),
  });
}

export const installationEvent = eventSchema({
  action: z.enum(["created", "deleted", "suspend", "unsuspend", "new_permissions_accepted"]),
  installation: installationSchema,
  repositories: z.array(listedRepositorySchema).optional(),
});
export type InstallationEvent = z.infer<typeof installationEvent>;

export const installationRepositoriesEvent = eventSchema({
  action: z.enum(["added", "removed"]),
  installation: installationSchema,
  repository_selection: z.enum(["all", "selected"]),
  repositories_added: z.array(listedRepositorySchema),
  repositories_removed: z.array(listedRepositorySchema),
});
export type InstallationRepositoriesEvent = z.infer<typeof installationRepositoriesEvent>;

/** The fields of every event about one repository of an installation. */
const repositoryEventFields = {
  installation: installationRef,
  repository: repositorySchema,
  organization: organizationSchema.optional(),
};
export type RepositoryEventBase = z.infer<z.ZodObject<typeof repositoryEventFields>>;

export const repositoryEvent = eventSchema({
  ...repositoryEventFields,
  action: z.enum(["renamed", "transferred", "archived", "unarchived", "deleted"]),
});
export type RepositoryEvent = z.infer<typeof repositoryEvent>;

export const organizationEvent = eventSchema({
  action: z.enum(["member_added", "member_removed"]),
  installation: installationRef,
  organization: organizationSchema,
  membership: z.object({
    user: userSchema.extend({
      name: z.string().nullable().optional(),
      email: z.string().nullable().optional(),
    }),
  }),
});
export type OrganizationEvent = z.infer<typeof organizationEvent>;

/**
 * A team as GitHub's team and membership events carry it (webhooks_team): a deleted team in a
 * membership event is only its id and name. `parent` is null at the top; a payload without it
 * says nothing about the parent.
 */
const teamSchema = z.object({
  id,
  node_id: name.optional(),
  name: text,
  slug: name.optional(),
  description: text.nullable().optional(),
  parent: z.object({ id }).nullable().optional(),
  deleted: z.boolean().optional(),
});
export type PayloadTeam = z.infer<typeof teamSchema>;

export const teamEvent = eventSchema({
  action: z.enum(["created", "deleted", "edited"]),
  installation: installationRef,
  organization: organizationSchema,
  team: teamSchema.extend({ slug: name }),
});
export type TeamEvent = z.infer<typeof teamEvent>;

export const membershipEvent = eventSchema({
  action: z.enum(["added", "removed"]),
  installation: installationRef,
  organization: organizationSchema,
  // "organization": the member left the organization, and with it every team.
  scope: z.enum(["team", "organization"]),
  member: userSchema.nullable(),
  team: teamSchema,
});
export type MembershipEvent = z.infer<typeof membershipEvent>;

/** The pull request a review payload carries: no sizes or counts. */
const reviewedPullRequestSchema = z.object({
  id,
  node_id: name,
  number: pullRequestNumber,
  title: text,
  body: text.nullable().optional(),
  state: z.enum(["open", "closed"]),
  draft: z.boolean().optional(),
  user: userSchema.nullable(),
  head: z.object({ ref: text }),
  base: z.object({ ref: text }),
  created_at: timestamp,
  updated_at: timestamp,
  closed_at: timestamp.nullable(),
  merged_at: timestamp.nullable(),
  // Every payload of GitHub.com carries the labels; one without them keeps those stored.
  labels: z
    .array(z.object({ name: text }))
    .max(1000)
    .optional(),
});
export type WebhookPullRequest = z.infer<typeof reviewedPullRequestSchema> &
  Partial<z.infer<typeof pullRequestSizes>>;

const count = z.number().int().min(0).max(2_147_483_647);
const pullRequestSizes = z.object({
  additions: count,
  deletions: count,
  changed_files: count,
  commits: count,
});

export const pullRequestEvent = eventSchema({
  ...repositoryEventFields,
  action: z.enum([
    "opened",
    "edited",
    "closed",
    "reopened",
    "synchronize",
    "ready_for_review",
    "converted_to_draft",
    // Exclusions by label follow them (the payload's pull_request lists the labels after the change).
    "labeled",
    "unlabeled",
  ]),
  // Sizes are in every pull_request payload of GitHub.com, but not in some GHES versions'.
  pull_request: reviewedPullRequestSchema.extend(pullRequestSizes.partial().shape),
  // labeled and unlabeled name the label too (read from pull_request.labels, which lists them all).
  label: z.object({ name: text }).optional(),
});
export type PullRequestEvent = z.infer<typeof pullRequestEvent>;

export const webhookReviewSchema = z.object({
  id,
  user: userSchema.nullable(),
  state: z.string().min(1),
  submitted_at: timestamp.nullable().optional(),
});
export type WebhookReview = z.infer<typeof webhookReviewSchema>;

export const pullRequestReviewEvent = eventSchema({
  ...repositoryEventFields,
  action: z.enum(["submitted", "edited", "dismissed"]),
  pull_request: reviewedPullRequestSchema,
  review: webhookReviewSchema,
});
export type PullRequestReviewEvent = z.infer<typeof pullRequestReviewEvent>;

/** Each handled event's schema; its `action` enum lists the actions that are handled. */
export const payloadSchemas = {
  installation: installationEvent,
  installation_repositories: installationRepositoriesEvent,
  repository: repositoryEvent,
  organization: organizationEvent,
  pull_request: pullRequestEvent,
  pull_request_review: pullRequestReviewEvent,
  team: teamEvent,
  membership: membershipEvent,
} as const;
export type HandledEvent = keyof typeof payloadSchemas;
export type PayloadOf<E extends HandledEvent> = z.infer<(typeof payloadSchemas)[E]>;

export function isHandledEventName(event: string): event is HandledEvent {
  return Object.hasOwn(payloadSchemas, event);
}

/** The handled actions of an event, from its schema. */
export function handledActions(event: HandledEvent): readonly string[] {
  return payloadSchemas[event].shape.action.options;
}

export type PayloadCheck =
  | { handled: false }
  | {
      handled: true;
      ok: true;
      /**
       * What the handlers read: the payload as its event's schema parsed it, as JSON text. A schema
       * keeps the fields it names and drops the rest (pull_request: 0.8 KB of 23 KB), and a handler
       * gets only the schema's output (app.ts), so a field a handler reads is kept by the same
       * line that lets it read it. Parsed again by the same schema, it gives what the whole
       * payload gives (test/webhooks/handled-payload.test.ts).
       */
      handledJson: string;
    }
  | { handled: true; ok: false; reason: string };

/** A refusal's reason is stored and answered; a field name in it comes from the payload, so it is cut. */
const MAX_REASON_LENGTH = 300;

/**
 * Whether a payload is one the App handles, and if so whether it has the shape of its event. An
 * action the App does not handle is not checked: it is recorded and ignored. A handled event
 * without a string action is malformed, and refused.
 */
export function checkPayload(event: string, payload: Record<string, unknown>): PayloadCheck {
  if (!isHandledEventName(event)) return { handled: false };
  const { action } = payload;
  if (typeof action !== "string") {
    return { handled: true, ok: false, reason: "action: expected a string" };
  }
  if (!handledActions(event).includes(action)) return { handled: false };
  const result = payloadSchemas[event].safeParse(payload);
  if (result.success) return { handled: true, ok: true, handledJson: JSON.stringify(result.data) };
  const issue = result.error.issues[0];
  const where = issue && issue.path.length > 0 ? issue.path.join(".") : "payload";
  const reason = `${where}: ${issue?.message ?? "invalid"}`;
  return { handled: true, ok: false, reason: cleanText(reason.slice(0, MAX_REASON_LENGTH)) };
}

const ISO_8601 = /^(\d{4})-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:?\d{2})$/;

function isGitHubTimestamp(value: string): boolean {
  const match = ISO_8601.exec(value);
  if (!match) return false;
  // GitHub did not exist before 1970, and Postgres has no year 0.
  const year = Number(match[1]);
  return year >= 1970 && !Number.isNaN(Date.parse(value));
}
