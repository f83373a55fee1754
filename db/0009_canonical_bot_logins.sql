-- One spelling for a bot's login, whichever path stored it: GitHub's REST, webhooks and UI say
-- `dependabot[bot]`, GraphQL's Bot actor says `dependabot`. Rows the GraphQL sync stored get the
-- suffix. Only rows GitHub typed as Bot are touched: a person's login never ends in [bot].
UPDATE "pull_requests" SET "author_login" = "author_login" || '[bot]'
WHERE "author_type" = 'Bot' AND "author_login" IS NOT NULL AND "author_login" NOT LIKE '%[bot]';
--> statement-breakpoint
UPDATE "reviews" SET "reviewer_login" = "reviewer_login" || '[bot]'
WHERE "reviewer_type" = 'Bot' AND "reviewer_login" IS NOT NULL AND "reviewer_login" NOT LIKE '%[bot]';
