ALTER TABLE "repositories" ADD COLUMN "delta_requested_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "webhook_redeliveries" ADD COLUMN "delivered_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "webhook_redeliveries" ADD COLUMN "installation_id" bigint;--> statement-breakpoint
CREATE INDEX "webhook_redeliveries_pending_idx" ON "webhook_redeliveries" USING btree ("delivered_at","hook_delivery_id") WHERE "webhook_redeliveries"."outcome" = 'pending';