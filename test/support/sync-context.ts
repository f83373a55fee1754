import pino from "pino";
import { defaultInstallationSettings } from "../../src/settings.js";
import type { SyncContext } from "../../src/sync/sync-context.js";
import { fakeGitHubClient } from "./fake-github-client.js";
import type { FakeGitHub } from "./fake-github/index.js";
import type { Harness } from "./harness.js";

/**
 * What a sync step gets from its job, for calling the step directly: a client on the fake GitHub
 * that does not pace itself (the app's paces GraphQL a second apart), silent logs.
 */
export function unpacedSyncContext(
  github: FakeGitHub,
  harness: Harness,
  installationId: number,
  overrides: Partial<SyncContext> = {},
): SyncContext {
  const log = pino({ level: "silent" });
  return {
    database: harness.database,
    boss: harness.app.boss,
    client: fakeGitHubClient(github, installationId, log),
    installationId,
    settings: defaultInstallationSettings,
    log,
    now: () => new Date(),
    reservePercent: 10,
    ...overrides,
  };
}
