CREATE TABLE "team_members" (
	"installation_id" bigint NOT NULL,
	"team_id" bigint NOT NULL,
	"user_id" bigint NOT NULL,
	"login" text NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "team_members_installation_id_team_id_user_id_pk" PRIMARY KEY("installation_id","team_id","user_id")
);
--> statement-breakpoint
CREATE TABLE "teams" (
	"installation_id" bigint NOT NULL,
	"id" bigint NOT NULL,
	"node_id" text,
	"slug" text NOT NULL,
	"name" text NOT NULL,
	"description" text,
	"parent_id" bigint,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "teams_installation_id_id_pk" PRIMARY KEY("installation_id","id")
);
--> statement-breakpoint
ALTER TABLE "pull_requests" ADD COLUMN "first_reviewer_id" bigint;--> statement-breakpoint
ALTER TABLE "teams" ADD CONSTRAINT "teams_installation_id_installations_id_fk" FOREIGN KEY ("installation_id") REFERENCES "public"."installations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "team_members_user_idx" ON "team_members" USING btree ("installation_id","user_id");--> statement-breakpoint
CREATE INDEX "pull_requests_installation_author_idx" ON "pull_requests" USING btree ("installation_id","author_id");--> statement-breakpoint
CREATE INDEX "reviews_installation_submitted_idx" ON "reviews" USING btree ("installation_id","submitted_at");
--> statement-breakpoint
-- Pull requests stored before first_reviewer_id existed: who gave the review first_review_at
-- holds, by the rule of src/metrics/pull-request.ts computeFirstReview (submitted, not by the
-- author, not by a bot; the lowest review id of one second). Every later write computes it there.
UPDATE "pull_requests" p SET "first_reviewer_id" = first."reviewer_id"
FROM (
	SELECT DISTINCT ON (r."installation_id", r."pull_request_id") r."installation_id", r."pull_request_id", r."reviewer_id", r."submitted_at"
	FROM "reviews" r
	JOIN "pull_requests" pr ON pr."installation_id" = r."installation_id" AND pr."id" = r."pull_request_id"
	WHERE r."state" <> 'pending' AND r."submitted_at" IS NOT NULL
		AND NOT coalesce(r."reviewer_type" = 'Bot' OR r."reviewer_login" LIKE '%[bot]', false)
		AND NOT coalesce(CASE WHEN pr."author_id" IS NOT NULL THEN r."reviewer_id" = pr."author_id"
			ELSE pr."author_login" IS NOT NULL AND r."reviewer_login" = pr."author_login" END, false)
	ORDER BY r."installation_id", r."pull_request_id", r."submitted_at", r."id"
) first
WHERE p."installation_id" = first."installation_id" AND p."id" = first."pull_request_id"
	AND p."first_review_at" = first."submitted_at";
