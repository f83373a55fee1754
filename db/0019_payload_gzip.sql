ALTER TABLE "webhook_deliveries" ADD COLUMN "payload_gzip" "bytea";--> statement-breakpoint
-- Gzipped by the app already: pglz would only try again, and the value goes out of line as it is.
ALTER TABLE "webhook_deliveries" ALTER COLUMN "payload_gzip" SET STORAGE EXTERNAL;