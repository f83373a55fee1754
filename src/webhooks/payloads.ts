import { z } from "zod";

/**
 * The shape of every handled event's payload: the fields the handlers read, with the names and
 * types of @octokit/webhooks' payload types. GitHub signs the body but not the X-GitHub-Event
 * header, so intake checks the body against the schema of the event it claims to be before it is
 * stored as processable: a signed repository.deleted body replayed as `installation` lacks the
 * installation's account and is refused, not processed as an uninstall.
 */

/** A GitHub database id: stored as bigint, read as a JavaScript number, so a safe integer. */
const id = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);
const timestamp = z
  .string()
  .min(1)
  .refine((value) => !Number.isNaN(Date.parse(value)), "not a timestamp");
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

export const installationEvent = z.object({
  action: z.enum(["created", "deleted", "suspend", "unsuspend", "new_permissions_accepted"]),
  installation: installationSchema,
  repositories: z.array(listedRepositorySchema).optional(),
});
export type InstallationEvent = z.infer<typeof installationEvent>;

export const installationRepositoriesEvent = z.object({
  action: z.enum(["added", "removed"]),
  installation: installationSchema,
  repository_selection: z.enum(["all", "selected"]),
  repositories_added: z.array(listedRepositorySchema),
  repositories_removed: z.array(listedRepositorySchema),
});
export type InstallationRepositoriesEvent = z.infer<typeof installationRepositoriesEvent>;

/** Events about one repository of an installation. */
const repositoryEventBase = z.object({
  installation: installationRef,
  repository: repositorySchema,
  organization: organizationSchema.optional(),
});
export type RepositoryEventBase = z.infer<typeof repositoryEventBase>;

export const repositoryEvent = repositoryEventBase.extend({
  action: z.enum(["renamed", "transferred", "archived", "unarchived", "deleted"]),
});
export type RepositoryEvent = z.infer<typeof repositoryEvent>;

export const organizationEvent = z.object({
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

/** The pull request a review payload carries: no sizes or counts. */
const reviewedPullRequestSchema = z.object({
  id,
  node_id: name,
  number: z.number().int().positive(),
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

export const pullRequestEvent = repositoryEventBase.extend({
  action: z.enum([
    "opened",
    "edited",
    "closed",
    "reopened",
    "synchronize",
    "ready_for_review",
    "converted_to_draft",
  ]),
  // Sizes are in every pull_request payload of GitHub.com, but not in some GHES versions'.
  pull_request: reviewedPullRequestSchema.extend(pullRequestSizes.partial().shape),
});
export type PullRequestEvent = z.infer<typeof pullRequestEvent>;

export const webhookReviewSchema = z.object({
  id,
  user: userSchema.nullable(),
  state: z.string().min(1),
  submitted_at: timestamp.nullable().optional(),
});
export type WebhookReview = z.infer<typeof webhookReviewSchema>;

export const pullRequestReviewEvent = repositoryEventBase.extend({
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
  { handled: false } | { handled: true; ok: true } | { handled: true; ok: false; reason: string };

/**
 * Whether a payload is one the App handles, and if so whether it has the shape of its event. An
 * event or action the App does not handle is not checked: it is recorded and ignored.
 */
export function checkPayload(event: string, action: string | null, payload: unknown): PayloadCheck {
  if (!isHandledEventName(event) || action === null || !handledActions(event).includes(action)) {
    return { handled: false };
  }
  const result = payloadSchemas[event].safeParse(payload);
  if (result.success) return { handled: true, ok: true };
  const issue = result.error.issues[0];
  const where = issue && issue.path.length > 0 ? issue.path.join(".") : "payload";
  return { handled: true, ok: false, reason: `${where}: ${issue?.message ?? "invalid"}` };
}
