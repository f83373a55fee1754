import { sql, type SQL } from "drizzle-orm";
import type { PgColumn } from "drizzle-orm/pg-core";

/**
 * `column = any($1)`: the values as one array parameter. drizzle's inArray writes ($1, $2, …), a
 * statement text per number of values, which postgres.js prepares again (one more round trip)
 * for every new count on every connection; the webhook worker's reads come in every size. Values
 * travel as text (the driver's int8 serializer takes strings) and are cast to the column's type.
 */
export function anyOf(column: PgColumn, values: readonly (number | string)[]): SQL {
  const type = sql.raw(column.getSQLType());
  return sql`${column} = any(${sql.param(values.map(String))}::${type}[])`;
}
