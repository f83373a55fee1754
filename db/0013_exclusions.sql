ALTER TABLE "pull_requests" ADD COLUMN "labels" text[];--> statement-breakpoint
ALTER TABLE "pull_requests" ADD COLUMN "excluded_reason" text;