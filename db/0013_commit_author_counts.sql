CREATE TABLE "commit_author_counts" (
	"installation_id" bigint NOT NULL,
	"author_id" bigint,
	"author_login" text,
	"author_email" text,
	"author_name" text,
	"commits" integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX "commit_author_counts_installation_idx" ON "commit_author_counts" USING btree ("installation_id");--> statement-breakpoint
-- Follows every write to commits, in the writing statement: the commits each author key gained
-- (inserted rows, updated rows' new values) and lost (deleted rows, updated rows' old values),
-- appended as signed rows. Commits with neither a linked account nor an email are no identity's
-- (src/db/queries/members.ts resolvedIdentities) and are not counted.
CREATE FUNCTION "commit_author_counts_follow"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	changes text := CASE TG_OP
		WHEN 'INSERT' THEN 'SELECT *, 1 AS n FROM new_rows'
		WHEN 'DELETE' THEN 'SELECT *, -1 AS n FROM old_rows'
		ELSE 'SELECT *, 1 AS n FROM new_rows UNION ALL SELECT *, -1 AS n FROM old_rows'
	END;
BEGIN
	EXECUTE format($sql$
		INSERT INTO "commit_author_counts" ("installation_id", "author_id", "author_login", "author_email", "author_name", "commits")
		SELECT c."installation_id", c."author_id", c."author_login", nullif(lower(c."author_email"), ''), c."author_name", sum(c.n)
		FROM (%s) c
		WHERE c."author_id" IS NOT NULL OR nullif(lower(c."author_email"), '') IS NOT NULL
		GROUP BY 1, 2, 3, 4, 5
		HAVING sum(c.n) <> 0$sql$, changes);
	RETURN NULL;
END $$;
--> statement-breakpoint
-- A trigger with transition tables fires for one event only: three, one function.
CREATE TRIGGER "commits_author_counts_insert" AFTER INSERT ON "commits"
	REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "commit_author_counts_follow"();
--> statement-breakpoint
CREATE TRIGGER "commits_author_counts_update" AFTER UPDATE ON "commits"
	REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "commit_author_counts_follow"();
--> statement-breakpoint
CREATE TRIGGER "commits_author_counts_delete" AFTER DELETE ON "commits"
	REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION "commit_author_counts_follow"();
--> statement-breakpoint
-- The commits stored before this migration, counted once.
INSERT INTO "commit_author_counts" ("installation_id", "author_id", "author_login", "author_email", "author_name", "commits")
SELECT "installation_id", "author_id", "author_login", nullif(lower("author_email"), ''), "author_name", count(*)
FROM "commits"
WHERE "author_id" IS NOT NULL OR nullif(lower("author_email"), '') IS NOT NULL
GROUP BY 1, 2, 3, 4, 5;
