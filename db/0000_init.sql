CREATE TABLE "installations" (
	"id" bigint PRIMARY KEY NOT NULL,
	"account_id" bigint NOT NULL,
	"account_login" text NOT NULL,
	"account_type" text NOT NULL,
	"repository_selection" text,
	"settings" jsonb DEFAULT '{"timezone":"UTC","defaultSyncDepth":"30d","autoTrackNewRepos":true,"hotfixBranchPattern":"^(hotfix|hot-fix)[/-]","hotfixTitlePattern":"\\bhotfix\\b"}'::jsonb NOT NULL,
	"suspended_at" timestamp with time zone,
	"deleted_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "repositories" (
	"id" bigint PRIMARY KEY NOT NULL,
	"installation_id" bigint NOT NULL,
	"node_id" text,
	"full_name" text NOT NULL,
	"private" boolean DEFAULT false NOT NULL,
	"archived" boolean DEFAULT false NOT NULL,
	"default_branch" text,
	"tracked" boolean DEFAULT false NOT NULL,
	"sync_depth" text,
	"removed_at" timestamp with time zone,
	"sync_status" text DEFAULT 'pending' NOT NULL,
	"prs_total" integer,
	"prs_done" integer DEFAULT 0 NOT NULL,
	"backfilled_since" timestamp with time zone,
	"backfill_cursor" text,
	"watermark" timestamp with time zone,
	"sync_started_at" timestamp with time zone,
	"sync_finished_at" timestamp with time zone,
	"last_successful_sync_at" timestamp with time zone,
	"paused_until" timestamp with time zone,
	"last_error" text,
	"last_error_code" text,
	"failure_count" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "members" (
	"installation_id" bigint NOT NULL,
	"user_id" bigint NOT NULL,
	"login" text NOT NULL,
	"name" text,
	"email" text,
	"type" text DEFAULT 'User' NOT NULL,
	"active" boolean DEFAULT true NOT NULL,
	"left_at" timestamp with time zone,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "members_installation_id_user_id_pk" PRIMARY KEY("installation_id","user_id")
);
--> statement-breakpoint
CREATE TABLE "pull_requests" (
	"installation_id" bigint NOT NULL,
	"id" bigint NOT NULL,
	"node_id" text,
	"repo_id" bigint NOT NULL,
	"number" integer NOT NULL,
	"title" text NOT NULL,
	"body" text,
	"state" text NOT NULL,
	"draft" boolean DEFAULT false NOT NULL,
	"author_id" bigint,
	"author_login" text,
	"author_type" text,
	"head_ref" text NOT NULL,
	"base_ref" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	"closed_at" timestamp with time zone,
	"merged_at" timestamp with time zone,
	"ready_for_review_at" timestamp with time zone,
	"first_commit_at" timestamp with time zone,
	"first_review_at" timestamp with time zone,
	"additions" integer,
	"deletions" integer,
	"changed_files" integer,
	"commits_count" integer,
	"commits_truncated" boolean DEFAULT false NOT NULL,
	"is_revert" boolean DEFAULT false NOT NULL,
	"is_hotfix" boolean DEFAULT false NOT NULL,
	"cycle_time_hours" numeric(12, 2),
	"review_time_hours" numeric(12, 2),
	"details_synced_at" timestamp with time zone,
	"written_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "pull_requests_installation_id_id_pk" PRIMARY KEY("installation_id","id")
);
--> statement-breakpoint
CREATE TABLE "reviews" (
	"id" bigint PRIMARY KEY NOT NULL,
	"installation_id" bigint NOT NULL,
	"pull_request_id" bigint NOT NULL,
	"repo_id" bigint NOT NULL,
	"reviewer_id" bigint,
	"reviewer_login" text,
	"reviewer_type" text,
	"state" text NOT NULL,
	"submitted_at" timestamp with time zone,
	"written_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "commits" (
	"installation_id" bigint NOT NULL,
	"pull_request_id" bigint NOT NULL,
	"sha" text NOT NULL,
	"repo_id" bigint NOT NULL,
	"author_id" bigint,
	"author_login" text,
	"author_email" text,
	"author_name" text,
	"message" text NOT NULL,
	"authored_at" timestamp with time zone,
	"committed_at" timestamp with time zone,
	"written_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "commits_installation_sha_pr_key" UNIQUE("installation_id","sha","pull_request_id")
);
--> statement-breakpoint
CREATE TABLE "webhook_deliveries" (
	"id" text PRIMARY KEY NOT NULL,
	"event" text NOT NULL,
	"action" text,
	"installation_id" bigint,
	"repository_id" bigint,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	"processed_at" timestamp with time zone,
	"status" text DEFAULT 'queued' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_error" text,
	"payload" jsonb NOT NULL
);
--> statement-breakpoint
ALTER TABLE "repositories" ADD CONSTRAINT "repositories_installation_id_installations_id_fk" FOREIGN KEY ("installation_id") REFERENCES "public"."installations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "members" ADD CONSTRAINT "members_installation_id_installations_id_fk" FOREIGN KEY ("installation_id") REFERENCES "public"."installations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "pull_requests" ADD CONSTRAINT "pull_requests_installation_id_installations_id_fk" FOREIGN KEY ("installation_id") REFERENCES "public"."installations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "repositories_installation_idx" ON "repositories" USING btree ("installation_id");--> statement-breakpoint
CREATE INDEX "pull_requests_repo_number_idx" ON "pull_requests" USING btree ("repo_id","number");--> statement-breakpoint
CREATE INDEX "pull_requests_installation_created_idx" ON "pull_requests" USING btree ("installation_id","created_at");--> statement-breakpoint
CREATE INDEX "reviews_pull_request_idx" ON "reviews" USING btree ("installation_id","pull_request_id");--> statement-breakpoint
CREATE INDEX "commits_pull_request_idx" ON "commits" USING btree ("installation_id","pull_request_id");--> statement-breakpoint
CREATE INDEX "webhook_deliveries_received_idx" ON "webhook_deliveries" USING btree ("received_at");