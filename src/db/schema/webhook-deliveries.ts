import { sql } from "drizzle-orm";
import { bigint, customType, index, integer, json, pgTable, text, timestamp } from "drizzle-orm/pg-core";

export type DeliveryStatus = "queued" | "processed" | "ignored" | "failed";

const bytea = customType<{ data: Buffer }>({ dataType: () => "bytea" });

export const webhookDeliveries = pgTable(
  "webhook_deliveries",
  {
    /** GitHub's X-GitHub-Delivery GUID: the idempotency key of intake. */
    id: text("id").primaryKey(),
    event: text("event").notNull(),
    action: text("action"),
    installationId: bigint("installation_id", { mode: "number" }),
    repositoryId: bigint("repository_id", { mode: "number" }),
    receivedAt: timestamp("received_at", { withTimezone: true }).notNull().defaultNow(),
    processedAt: timestamp("processed_at", { withTimezone: true }),
    status: text("status").$type<DeliveryStatus>().notNull().default("queued"),
    attempts: integer("attempts").notNull().default(0),
    lastError: text("last_error"),
    /**
     * The payload of a delivery stored before migration 0019 (since then: `payload_gzip`). Kept for
     * the retention period (WEBHOOK_PAYLOAD_RETENTION_DAYS); the row itself stays. json, not jsonb:
     * the text as received (cleaned), checked but not converted.
     */
    payload: json("payload"),
    /**
     * The payload, kept for the retention period as `payload` was: its JSON text as received
     * (cleaned), UTF-8, gzipped by the app (`gunzip` reads it back byte for byte). Nothing queries
     * inside payloads, and as json Postgres checked, pglz-compressed and TOASTed 23 KB of text
     * for each pull_request delivery: gzip at level 1 in Node costs a third of pglz's CPU time,
     * stores 2.6 KB instead of 6.4 KB, and sends Postgres a fifth of the bytes (hex). Stored
     * uncompressed by Postgres (STORAGE EXTERNAL): pglz would only try to compress it again.
     */
    payloadGzip: bytea("payload_gzip"),
    /**
     * The payload, kept for the retention period as `payload_gzip` was, where Postgres compresses
     * with lz4 (migration 0020 sets it where the server is built with lz4): its JSON text as
     * received (cleaned), byte for byte. The app then neither gzips it on the event loop that
     * acknowledges deliveries (40–110 µs a 23 KB payload) nor sends it as hex, and lz4 costs
     * Postgres a fraction of pglz's time. Where the column has no lz4 (`attcompression` is not
     * `l`), the intake keeps writing `payload_gzip` (`payloadFormat`): pglz would cost Postgres
     * 0.3 ms more a delivery. A row has one of `payload`, `payload_gzip`, `payload_text` set (or
     * none once retention dropped it).
     */
    payloadText: text("payload_text"),
    /**
     * The part of `payload` the handlers read: the payload as its event's schema parsed it at intake
     * (src/webhooks/payloads.ts), about 0.8 KB of a 23 KB pull_request delivery. The webhook worker
     * reads this, not `payload`; null for deliveries that are not processed, and for those stored
     * before this column (the worker reads their `payload`). Kept and purged with the payload.
     */
    handledPayload: json("handled_payload"),
  },
  (t) => [
    index("webhook_deliveries_received_idx").on(t.receivedAt),
    // The webhook health page reads one installation's recent deliveries.
    index("webhook_deliveries_installation_received_idx").on(t.installationId, t.receivedAt),
    // Deliveries whose processing failed are retried from here (src/webhooks/recovery.ts).
    index("webhook_deliveries_failed_idx")
      .on(t.receivedAt)
      .where(sql`${t.status} = 'failed'`),
    // Deliveries left queued without a job are queued again from here (src/webhooks/recovery.ts):
    // the queued are the few in flight, whatever the size of the table.
    index("webhook_deliveries_queued_idx")
      .on(t.receivedAt)
      .where(sql`${t.status} = 'queued'`),
  ],
);

/**
 * What became of each delivery GitHub recorded as failed (GET /app/hook/deliveries): each GUID
 * gets one row, claimed by one scan whatever the number of replicas, so it is repaired or asked
 * for once.
 *
 * - `repaired_by_sync`: a pull request event, repaired by a delta sync of its repository.
 * - `pending`: to be redelivered, oldest first; `requesting` while GitHub is being asked.
 * - `requested`, or `failed: <why GitHub refused>`.
 */
export type RedeliveryOutcome =
  "repaired_by_sync" | "pending" | "requesting" | "requested" | `failed: ${string}`;

export const webhookRedeliveries = pgTable(
  "webhook_redeliveries",
  {
    /** X-GitHub-Delivery GUID. */
    guid: text("guid").primaryKey(),
    /** GitHub's id of the failed attempt (GET /app/hook/deliveries). */
    hookDeliveryId: bigint("hook_delivery_id", { mode: "number" }).notNull(),
    event: text("event"),
    /** When the row was written (claimed); GitHub is asked later, in the order of `delivered_at`. */
    requestedAt: timestamp("requested_at", { withTimezone: true }).notNull().defaultNow(),
    /** See RedeliveryOutcome. */
    outcome: text("outcome").$type<RedeliveryOutcome>().notNull(),
    /** When GitHub attempted the failed delivery: redeliveries go in this order. Null in rows of earlier versions. */
    deliveredAt: timestamp("delivered_at", { withTimezone: true }),
    installationId: bigint("installation_id", { mode: "number" }),
  },
  (t) => [
    index("webhook_redeliveries_pending_idx")
      .on(t.deliveredAt, t.hookDeliveryId)
      .where(sql`${t.outcome} = 'pending'`),
  ],
);

export type WebhookDelivery = typeof webhookDeliveries.$inferSelect;
