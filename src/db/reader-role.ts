import type { Sql } from "postgres";
import { InvalidInputError } from "../errors.js";

/**
 * The open data's SQL interface (db/0015_open_data.sql): views in a schema of their own, and login
 * roles that can read those views and nothing else. A view reads its tables with its owner's
 * rights, so the role needs no grant on any table: public, pgboss and drizzle stay closed to it.
 */

/** Version 1 of the views; a change of meaning makes pr_pulse_v2 beside it, never an edit here. */
export const OPEN_DATA_SCHEMA = "pr_pulse_v1";

/** Marks the roles this command made: it refuses to change the password of any other role. */
const READER_COMMENT = "PR Pulse open data reader (read-only views of pr_pulse_v1)";

/** A role name that needs no quoting and cannot be mistaken for anything else. */
export const READER_ROLE_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** An identifier or a text literal written into a statement that takes no parameters. */
const identifier = (name: string) => `"${name.replaceAll('"', '""')}"`;
const literal = (text: string) => `'${text.replaceAll("'", "''")}'`;

/**
 * Creates the login role `name` (or, when this command made it before, gives it a new password)
 * that reads the open-data views only: CONNECT on this database, USAGE on the schema, SELECT on
 * its views and on views later migrations add to it, every session read-only.
 */
export async function grantReaderRole(
  sql: Sql,
  name: string,
  password: string,
): Promise<{ created: boolean }> {
  if (!READER_ROLE_NAME.test(name)) {
    throw new InvalidInputError(
      "The role name must be 1 to 63 lower-case letters, digits or underscores, not starting with a digit.",
    );
  }
  return sql.begin(async (tx) => {
    const [existing] = await tx<{ comment: string | null; superuser: boolean; self: boolean }[]>`
      select shobj_description(r.oid, 'pg_authid') as comment, r.rolsuper as superuser,
             r.rolname = current_user as self
      from pg_roles r where r.rolname = ${name}`;
    if (existing && (existing.self || existing.superuser || existing.comment !== READER_COMMENT)) {
      throw new InvalidInputError(
        `A role named ${name} exists and was not made by this command: choose another name.`,
      );
    }
    const role = identifier(name);
    const schema = identifier(OPEN_DATA_SCHEMA);
    const limits = "login nosuperuser nocreatedb nocreaterole noreplication nobypassrls";
    await tx.unsafe(
      `${existing ? "alter" : "create"} role ${role} with ${limits} password ${literal(password)}`,
    );
    await tx.unsafe(`comment on role ${role} is ${literal(READER_COMMENT)}`);
    await tx.unsafe(`alter role ${role} set default_transaction_read_only = on`);
    const [{ database } = { database: "" }] = await tx<{ database: string }[]>`
      select current_database() as database`;
    await tx.unsafe(`grant connect on database ${identifier(database)} to ${role}`);
    await tx.unsafe(`grant usage on schema ${schema} to ${role}`);
    await tx.unsafe(`grant select on all tables in schema ${schema} to ${role}`);
    // Views a later migration adds to v1 (created by this same user) are readable without running this again.
    await tx.unsafe(`alter default privileges in schema ${schema} grant select on tables to ${role}`);
    return { created: !existing };
  });
}
