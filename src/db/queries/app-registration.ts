import { sql } from "drizzle-orm";
import type { Database, Db } from "../client.js";
import { readAppState, writeAppState } from "./app-state.js";

/** The app_state key of the GitHub App this deployment registered in setup mode. */
const REGISTRATION_KEY = "github_app_registration";
/** Any constant works; it only has to be the same in every replica (migrations use 727_001). */
const REGISTRATION_LOCK_ID = 727_002;

export interface AppRegistration {
  appId: number;
  slug: string;
  htmlUrl: string;
  registeredAt: string;
}

/**
 * Runs `work` in a transaction that holds the registration lock: across every replica on this
 * Postgres, one setup callback at a time trades its code for credentials and writes them.
 */
export async function withRegistrationLock<T>(
  database: Pick<Database, "db">,
  work: (db: Db) => Promise<T>,
): Promise<T> {
  return database.db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${REGISTRATION_LOCK_ID})`);
    return work(tx);
  });
}

export async function findAppRegistration(db: Db): Promise<AppRegistration | undefined> {
  return readAppState<AppRegistration>(db, REGISTRATION_KEY);
}

export async function recordAppRegistration(db: Db, registration: AppRegistration): Promise<void> {
  await writeAppState(db, REGISTRATION_KEY, registration);
}
