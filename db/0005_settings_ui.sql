CREATE TABLE "sessions" (
	"id" text PRIMARY KEY NOT NULL,
	"user_id" bigint NOT NULL,
	"login" text NOT NULL,
	"csrf_token" text NOT NULL,
	"installation_ids" bigint[] DEFAULT '{}' NOT NULL,
	"authorized_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "identity_matches" (
	"installation_id" bigint NOT NULL,
	"identity" text NOT NULL,
	"member_user_id" bigint,
	"matched_by_user_id" bigint NOT NULL,
	"matched_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "identity_matches_installation_id_identity_pk" PRIMARY KEY("installation_id","identity")
);
--> statement-breakpoint
CREATE TABLE "sync_runs" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"installation_id" bigint NOT NULL,
	"repo_id" bigint NOT NULL,
	"kind" text NOT NULL,
	"started_at" timestamp with time zone NOT NULL,
	"finished_at" timestamp with time zone NOT NULL,
	"changed" integer NOT NULL,
	"drift" integer NOT NULL,
	"queries" integer NOT NULL
);
--> statement-breakpoint
ALTER TABLE "repositories" ADD COLUMN "last_activity_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "repositories" ADD COLUMN "run_prs_start" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "repositories" ADD COLUMN "run_paused_seconds" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "repositories" ADD COLUMN "paused_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "pull_requests" ADD COLUMN "coding_phase_hours" numeric(12, 2);--> statement-breakpoint
ALTER TABLE "pull_requests" ADD COLUMN "pickup_phase_hours" numeric(12, 2);--> statement-breakpoint
ALTER TABLE "pull_requests" ADD COLUMN "review_phase_hours" numeric(12, 2);--> statement-breakpoint
ALTER TABLE "pull_requests" ADD COLUMN "revert_pattern_match" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "weekly_metrics" ADD COLUMN "humans_only" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "weekly_metrics" DROP CONSTRAINT "weekly_metrics_installation_id_repo_id_week_start_pk";--> statement-breakpoint
ALTER TABLE "weekly_metrics" ADD CONSTRAINT "weekly_metrics_installation_id_repo_id_week_start_humans_only_pk" PRIMARY KEY("installation_id","repo_id","week_start","humans_only");--> statement-breakpoint
ALTER TABLE "weekly_metrics" ADD COLUMN "median_coding_phase_hours" numeric(12, 2);--> statement-breakpoint
ALTER TABLE "weekly_metrics" ADD COLUMN "median_pickup_phase_hours" numeric(12, 2);--> statement-breakpoint
ALTER TABLE "weekly_metrics" ADD COLUMN "median_review_phase_hours" numeric(12, 2);--> statement-breakpoint
ALTER TABLE "weekly_metrics" ADD COLUMN "median_size_lines" integer;--> statement-breakpoint
ALTER TABLE "weekly_metrics" ADD COLUMN "reverts_with_pattern" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX "sessions_expires_idx" ON "sessions" USING btree ("expires_at");--> statement-breakpoint
CREATE INDEX "sync_runs_installation_finished_idx" ON "sync_runs" USING btree ("installation_id","finished_at");--> statement-breakpoint
CREATE INDEX "repositories_installation_activity_idx" ON "repositories" USING btree ("installation_id","last_activity_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "pull_requests_installation_merged_idx" ON "pull_requests" USING btree ("installation_id","merged_at");--> statement-breakpoint
-- Hand-written: the phases of the pull requests already stored, by the rule of
-- src/metrics/pull-request.ts (hours, two decimals, never negative), and every stored week marked
-- for a refresh, which adds its humans-only rows and the new medians.
UPDATE "pull_requests" SET
  "coding_phase_hours" = CASE WHEN "first_commit_at" IS NULL THEN NULL
    ELSE round(greatest(0, extract(epoch FROM coalesce("ready_for_review_at", "created_at") - "first_commit_at") / 3600)::numeric, 2) END,
  "pickup_phase_hours" = CASE WHEN "first_review_at" IS NULL THEN NULL
    ELSE round(greatest(0, extract(epoch FROM "first_review_at" - coalesce("ready_for_review_at", "created_at")) / 3600)::numeric, 2) END,
  "review_phase_hours" = CASE WHEN "first_review_at" IS NULL OR "merged_at" IS NULL THEN NULL
    ELSE round(greatest(0, extract(epoch FROM "merged_at" - "first_review_at") / 3600)::numeric, 2) END;--> statement-breakpoint
INSERT INTO "weekly_metrics_pending" ("installation_id", "week_start")
  SELECT DISTINCT "installation_id", "week_start" FROM "weekly_metrics"
  ON CONFLICT DO NOTHING;
