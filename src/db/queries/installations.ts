import { and, eq, isNull, lt, or, sql } from "drizzle-orm";
import { parseInstallationSettings, type InstallationSettings } from "../../settings.js";
import type { Db } from "../client.js";
import { anyOf } from "./any-of.js";
import { installations, type Installation } from "../schema/index.js";

export interface InstallationAccount {
  id: number;
  accountId: number;
  accountLogin: string;
  accountType: "Organization" | "User";
  repositorySelection?: "all" | "selected" | null;
  suspendedAt?: Date | null;
}

/** Creates or refreshes an installation; a re-install clears deleted_at. */
export async function upsertInstallation(db: Db, account: InstallationAccount): Promise<Installation> {
  const [row] = await db
    .insert(installations)
    .values({ ...account, deletedAt: null })
    .onConflictDoUpdate({
      target: installations.id,
      set: {
        accountId: account.accountId,
        accountLogin: account.accountLogin,
        accountType: account.accountType,
        ...(account.repositorySelection ? { repositorySelection: account.repositorySelection } : {}),
        ...(account.suspendedAt !== undefined ? { suspendedAt: account.suspendedAt } : {}),
        deletedAt: null,
        updatedAt: sql`now()`,
      },
    })
    .returning();
  return row!;
}

/** Known installations only; events for an installation we never saw create it from the payload. */
export async function findInstallation(db: Db, id: number): Promise<Installation | undefined> {
  const [row] = await db.select().from(installations).where(eq(installations.id, id));
  return row;
}

/** The stored installations among these ids, by id: one statement for a batch of deliveries. */
export async function findInstallations(db: Db, ids: number[]): Promise<Map<number, Installation>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .select()
    .from(installations)
    .where(anyOf(installations.id, [...new Set(ids)]));
  return new Map(rows.map((row) => [row.id, row]));
}

/** An installation whose data may be synced from GitHub: known, not uninstalled, not suspended. */
export function isSyncable(installation: Installation | undefined): installation is Installation {
  return Boolean(installation && !installation.deletedAt && !installation.suspendedAt);
}

export async function updateInstallation(
  db: Db,
  id: number,
  patch: Partial<
    Pick<Installation, "suspendedAt" | "deletedAt" | "repositorySelection" | "accountLogin" | "settings">
  >,
): Promise<void> {
  await db
    .update(installations)
    .set({ ...patch, updatedAt: sql`now()` })
    .where(eq(installations.id, id));
}

export async function getInstallationSettings(db: Db, id: number): Promise<InstallationSettings> {
  const [row] = await db
    .select({ settings: installations.settings })
    .from(installations)
    .where(eq(installations.id, id));
  return parseInstallationSettings(row?.settings);
}

export async function listInstallations(db: Db): Promise<Installation[]> {
  return db.select().from(installations).orderBy(installations.accountLogin);
}

/** Claims an installation-wide manual sync unless one was claimed within `cooldownSeconds`. */
export async function claimInstallationSyncNow(
  db: Db,
  id: number,
  cooldownSeconds: number,
): Promise<boolean> {
  const rows = await db
    .update(installations)
    .set({ manualSyncRequestedAt: sql`now()` })
    .where(
      and(
        eq(installations.id, id),
        or(
          isNull(installations.manualSyncRequestedAt),
          lt(installations.manualSyncRequestedAt, sql`now() - make_interval(secs => ${cooldownSeconds})`),
        ),
      ),
    )
    .returning({ id: installations.id });
  return rows.length > 0;
}

/**
 * Claims the one "first backfill complete" notice of an installation: true for exactly one caller,
 * whatever the number of replicas finishing backfills at the same moment.
 */
export async function claimFirstBackfillNotice(db: Db, id: number): Promise<{ account: string } | undefined> {
  const [row] = await db
    .update(installations)
    .set({ firstBackfillNotifiedAt: sql`now()` })
    .where(and(eq(installations.id, id), isNull(installations.firstBackfillNotifiedAt)))
    .returning({ account: installations.accountLogin });
  return row;
}
