CREATE TABLE "api_tokens" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"installation_id" bigint NOT NULL,
	"name" text NOT NULL,
	"token_hash" text NOT NULL,
	"prefix" text NOT NULL,
	"created_by_id" bigint NOT NULL,
	"created_by_login" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_used_at" timestamp with time zone,
	"revoked_at" timestamp with time zone,
	CONSTRAINT "api_tokens_token_hash_unique" UNIQUE("token_hash")
);
--> statement-breakpoint
ALTER TABLE "api_tokens" ADD CONSTRAINT "api_tokens_installation_id_installations_id_fk" FOREIGN KEY ("installation_id") REFERENCES "public"."installations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "api_tokens_installation_idx" ON "api_tokens" USING btree ("installation_id");--> statement-breakpoint
-- Open data, version 1: a read-only SQL interface in a schema of its own, for Grafana, Metabase and
-- psql (README "Open data"). Its columns keep their meaning for as long as v1 exists: a column
-- may be added, but one whose meaning changes, or that goes away, makes a new schema pr_pulse_v2
-- beside this one. Nothing secret is here: no tokens, sessions, webhook payloads, settings or
-- e-mail addresses. The combined values repeat src/db/queries/counted-pull-requests.ts
-- (COMBINED_VALUES, countedPullRequests), and test/open-data/api.test.ts holds them equal.
CREATE SCHEMA "pr_pulse_v1";
--> statement-breakpoint
COMMENT ON SCHEMA "pr_pulse_v1" IS 'PR Pulse open data, version 1: read-only views whose columns never change meaning (README "Open data").';
--> statement-breakpoint
CREATE VIEW "pr_pulse_v1"."installations" AS
  SELECT i.id AS installation_id, i.account_login, i.account_type,
         coalesce(i.settings->>'timezone', 'UTC') AS timezone, i.created_at, i.deleted_at
  FROM public.installations i;
--> statement-breakpoint
CREATE VIEW "pr_pulse_v1"."repositories" AS
  SELECT r.installation_id, r.id AS repo_id, r.full_name, r.private, r.archived, r.default_branch,
         r.tracked, r.removed_at, r.last_successful_sync_at
  FROM public.repositories r;
--> statement-breakpoint
CREATE VIEW "pr_pulse_v1"."pull_requests" AS
  SELECT pr.installation_id, pr.id AS pull_request_id, pr.repo_id, r.full_name AS repository, pr.number,
         pr.title, pr.state, pr.draft, pr.author_id, pr.author_login, pr.author_type,
         pr.head_ref, pr.base_ref,
         pr.created_at, pr.ready_for_review_at, pr.first_commit_at, pr.first_review_at, pr.first_reviewer_id,
         pr.merged_at, pr.closed_at, pr.updated_at,
         pr.additions, pr.deletions, pr.changed_files, pr.commits_count, pr.commits_truncated,
         pr.cycle_time_hours, pr.review_time_hours,
         pr.coding_phase_hours, pr.pickup_phase_hours, pr.review_phase_hours,
         pr.cycle_time_working_hours, pr.review_time_working_hours,
         pr.coding_phase_working_hours, pr.pickup_phase_working_hours, pr.review_phase_working_hours,
         pr.is_revert, pr.revert_pattern_match, pr.is_hotfix,
         coalesce(pr.additions, 0) + coalesce(pr.deletions, 0) AS size_lines,
         pr.state = 'closed' AS closed_unmerged,
         (pr.is_revert OR pr.revert_pattern_match) AS is_revert_incl_pattern,
         coalesce(pr.author_type = 'Bot' OR pr.author_login LIKE '%[bot]', false) AS by_bot,
         pr.labels, pr.excluded_reason,
         r.tracked AND pr.excluded_reason IS NULL AS counted
  FROM public.pull_requests pr
  JOIN public.repositories r ON r.id = pr.repo_id AND r.installation_id = pr.installation_id;
--> statement-breakpoint
CREATE VIEW "pr_pulse_v1"."reviews" AS
  SELECT rv.installation_id, rv.id AS review_id, rv.pull_request_id, rv.repo_id, rv.reviewer_id,
         rv.reviewer_login, rv.reviewer_type, rv.state, rv.submitted_at
  FROM public.reviews rv;
--> statement-breakpoint
CREATE VIEW "pr_pulse_v1"."weekly_metrics" AS
  SELECT w.installation_id, nullif(w.repo_id, 0) AS repo_id, w.week_start, w.humans_only,
         w.prs_opened, w.prs_merged, w.prs_closed,
         w.median_cycle_time_hours, w.p75_cycle_time_hours, w.median_review_time_hours,
         w.median_coding_phase_hours, w.median_pickup_phase_hours, w.median_review_phase_hours,
         w.median_cycle_time_working_hours, w.p75_cycle_time_working_hours, w.median_review_time_working_hours,
         w.median_coding_phase_working_hours, w.median_pickup_phase_working_hours,
         w.median_review_phase_working_hours,
         w.median_size_lines, w.reverts, w.reverts_with_pattern, w.hotfixes, w.additions, w.deletions,
         w.refreshed_at
  FROM public.weekly_metrics w;
--> statement-breakpoint
CREATE VIEW "pr_pulse_v1"."members" AS
  SELECT m.installation_id, m.user_id, m.login, m.name, m.type, m.active, m.left_at
  FROM public.members m;
--> statement-breakpoint
CREATE VIEW "pr_pulse_v1"."teams" AS
  SELECT t.installation_id, t.id AS team_id, t.slug, t.name, t.description, t.parent_id
  FROM public.teams t;
--> statement-breakpoint
CREATE VIEW "pr_pulse_v1"."team_members" AS
  SELECT tm.installation_id, tm.team_id, tm.user_id, tm.login
  FROM public.team_members tm;
--> statement-breakpoint
-- Who is in a team now, members of its sub-teams included: what the metrics page's team filter
-- counts (src/db/queries/teams.ts teamClosure).
CREATE VIEW "pr_pulse_v1"."team_members_with_sub_teams" AS
  WITH RECURSIVE lineage(installation_id, team_id, ancestor_id) AS (
    SELECT t.installation_id, t.id, t.id FROM public.teams t
    UNION
    SELECT l.installation_id, l.team_id, parent.id
    FROM lineage l
    JOIN public.teams t ON t.installation_id = l.installation_id AND t.id = l.ancestor_id
    JOIN public.teams parent ON parent.installation_id = l.installation_id AND parent.id = t.parent_id
  )
  SELECT DISTINCT l.installation_id, l.ancestor_id AS team_id, m.user_id, m.login
  FROM lineage l
  JOIN public.team_members m ON m.installation_id = l.installation_id AND m.team_id = l.team_id;
