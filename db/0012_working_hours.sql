ALTER TABLE "installations" ALTER COLUMN "settings" SET DEFAULT '{"timezone":"UTC","defaultSyncDepth":"30d","autoTrackNewRepos":true,"hotfixBranchPattern":"^(hotfix|hot-fix)[/-]","hotfixTitlePattern":"\\bhotfix\\b","revertTitlePattern":"","workDays":[1,2,3,4,5],"workStart":"09:00","workEnd":"18:00","holidays":[]}'::jsonb;--> statement-breakpoint
ALTER TABLE "pull_requests" ADD COLUMN "cycle_time_working_hours" numeric(12, 2);--> statement-breakpoint
ALTER TABLE "pull_requests" ADD COLUMN "review_time_working_hours" numeric(12, 2);--> statement-breakpoint
ALTER TABLE "pull_requests" ADD COLUMN "coding_phase_working_hours" numeric(12, 2);--> statement-breakpoint
ALTER TABLE "pull_requests" ADD COLUMN "pickup_phase_working_hours" numeric(12, 2);--> statement-breakpoint
ALTER TABLE "pull_requests" ADD COLUMN "review_phase_working_hours" numeric(12, 2);--> statement-breakpoint
ALTER TABLE "weekly_metrics" ADD COLUMN "median_cycle_time_working_hours" numeric(12, 2);--> statement-breakpoint
ALTER TABLE "weekly_metrics" ADD COLUMN "p75_cycle_time_working_hours" numeric(12, 2);--> statement-breakpoint
ALTER TABLE "weekly_metrics" ADD COLUMN "median_review_time_working_hours" numeric(12, 2);--> statement-breakpoint
ALTER TABLE "weekly_metrics" ADD COLUMN "median_coding_phase_working_hours" numeric(12, 2);--> statement-breakpoint
ALTER TABLE "weekly_metrics" ADD COLUMN "median_pickup_phase_working_hours" numeric(12, 2);--> statement-breakpoint
ALTER TABLE "weekly_metrics" ADD COLUMN "median_review_phase_working_hours" numeric(12, 2);