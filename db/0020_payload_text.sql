ALTER TABLE "webhook_deliveries" ADD COLUMN "payload_text" text;--> statement-breakpoint
-- The payload's text, compressed by Postgres with lz4 where the server is built with it (14+,
-- --with-lz4: 'lz4' among default_toast_compression's values). Elsewhere the column keeps the
-- default (pglz) and the app goes on gzipping into payload_gzip (it reads attcompression).
DO $$
BEGIN
  IF EXISTS (
    SELECT 1 FROM pg_settings
    WHERE name = 'default_toast_compression' AND 'lz4' = ANY (enumvals)
  ) THEN
    ALTER TABLE "webhook_deliveries" ALTER COLUMN "payload_text" SET COMPRESSION lz4;
  END IF;
END
$$;
