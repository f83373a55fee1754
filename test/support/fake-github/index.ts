/**
 * A small fake GitHub (GHES-style) for end-to-end tests, `npm run demo` and benchmarks.
 * Point the app at it with GHE_HOST=<fake.host> and GHE_PROTOCOL=http.
 */
export { startFakeGitHub } from "./server.js";
export type { FakeGitHub, FakeGitHubOptions, FakeGitHubStats } from "./server.js";
export { World, PullRequest, encodeNodeId, decodeNodeId, fakeSha, teamSlug } from "./world.js";
export type {
  Account,
  App,
  Commit,
  HookDeliveryRecord,
  Installation,
  PullRequestData,
  PullRequestFields,
  PullRequestQuery,
  PullRequestState,
  Repo,
  Review,
  ReviewState,
  Team,
  TimelineEvent,
  User,
} from "./world.js";
export type { SeedOrgOptions, SeedOrgResult } from "./seed.js";
export { Faults } from "./faults.js";
export type { FaultSettings } from "./faults.js";
export { FakeOAuth } from "./oauth.js";
export type { OrgRole } from "./oauth.js";
export { RateLimiter } from "./rate-limit.js";
export { analyzeQuery, MAX_NODES, MAX_PAGE_SIZE } from "./cost.js";
export { loadGitHubSchema, MAX_PULL_REQUEST_COMMITS } from "./graphql.js";
export { fakeAppJwt, decodeJwtPayload } from "./rest.js";
export { buildWebhook, deliverWebhook, redeliverWebhook } from "./webhooks.js";
export type { Delivery, Webhook, WebhookActions, WebhookEvent, WebhookRefs } from "./webhooks.js";
export type { Urls } from "./shapes.js";
