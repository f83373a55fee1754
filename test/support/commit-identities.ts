import type { Sql } from "postgres";

export interface DirectIdentityCount {
  identity: string;
  authorLogin: string | null;
  authorEmail: string | null;
  authorName: string | null;
  commits: number;
}

/**
 * An installation's commit identities counted straight from every stored commit, as the members
 * page counted them before commit_author_counts: the reference the stored counts must equal.
 */
export async function countIdentitiesDirectly(
  sql: Sql,
  installationId: number,
): Promise<DirectIdentityCount[]> {
  const rows = await sql<DirectIdentityCount[]>`
    select case when author_id is not null then 'id:' || author_id
                else 'email:' || nullif(lower(author_email), '') end as identity,
           mode() within group (order by author_login) as "authorLogin",
           mode() within group (order by nullif(lower(author_email), '')) as "authorEmail",
           mode() within group (order by author_name) as "authorName",
           count(*)::int as commits
    from commits
    where installation_id = ${installationId}
      and (author_id is not null or nullif(lower(author_email), '') is not null)
    group by 1 order by commits desc, identity`;
  return [...rows];
}
