CREATE TABLE "weekly_metrics" (
	"installation_id" bigint NOT NULL,
	"repo_id" bigint NOT NULL,
	"week_start" date NOT NULL,
	"prs_opened" integer DEFAULT 0 NOT NULL,
	"prs_merged" integer DEFAULT 0 NOT NULL,
	"prs_closed" integer DEFAULT 0 NOT NULL,
	"median_cycle_time_hours" numeric(12, 2),
	"p75_cycle_time_hours" numeric(12, 2),
	"median_review_time_hours" numeric(12, 2),
	"reverts" integer DEFAULT 0 NOT NULL,
	"hotfixes" integer DEFAULT 0 NOT NULL,
	"additions" integer DEFAULT 0 NOT NULL,
	"deletions" integer DEFAULT 0 NOT NULL,
	"refreshed_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "weekly_metrics_installation_id_repo_id_week_start_pk" PRIMARY KEY("installation_id","repo_id","week_start")
);
--> statement-breakpoint
ALTER TABLE "installations" ADD COLUMN "first_backfill_notified_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "installations" ADD COLUMN "manual_sync_requested_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "repositories" ADD COLUMN "page_size" integer DEFAULT 50 NOT NULL;--> statement-breakpoint
ALTER TABLE "repositories" ADD COLUMN "last_drift_count" integer;--> statement-breakpoint
ALTER TABLE "repositories" ADD COLUMN "manual_sync_requested_at" timestamp with time zone;