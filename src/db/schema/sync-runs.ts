import { bigint, bigserial, index, integer, pgTable, text, timestamp } from "drizzle-orm/pg-core";

/** Each finished delta sync of a repository: what it found that webhooks had not delivered. */
export const syncRuns = pgTable(
  "sync_runs",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    installationId: bigint("installation_id", { mode: "number" }).notNull(),
    repoId: bigint("repo_id", { mode: "number" }).notNull(),
    kind: text("kind").$type<"delta">().notNull(),
    startedAt: timestamp("started_at", { withTimezone: true }).notNull(),
    finishedAt: timestamp("finished_at", { withTimezone: true }).notNull(),
    changed: integer("changed").notNull(),
    drift: integer("drift").notNull(),
    queries: integer("queries").notNull(),
  },
  (t) => [index("sync_runs_installation_finished_idx").on(t.installationId, t.finishedAt)],
);

export type SyncRun = typeof syncRuns.$inferSelect;
