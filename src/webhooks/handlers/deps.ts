import type { PgBoss } from "pg-boss";
import type { Logger } from "pino";
import type { Database } from "../../db/client.js";

/** What every webhook handler needs; handlers read ids, persist, enqueue, and return. */
export interface HandlerDeps {
  database: Database;
  boss: PgBoss;
  log: Logger;
}
