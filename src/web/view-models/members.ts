import type { Db } from "../../db/client.js";
import {
  listCommitIdentities,
  listIdentityMatches,
  listMembers,
  type CommitIdentity,
  type IdentityMatchRow,
  type MatchSource,
} from "../../db/queries/members.js";
import type { Installation, Member } from "../../db/schema/index.js";
import { isBotCommitAuthor } from "../../metrics/pull-request.js";
import { formatCount, timeView } from "./format.js";
import { installationHeader, installationPath } from "./installation.js";

export const MEMBERS_PAGE_SIZE = 50;
export const IDENTITIES_PAGE_SIZE = 25;
/** Bots that commit are a handful (dependabot, github-actions, renovate); beyond this, a count. */
export const BOT_IDENTITIES_SHOWN = 50;
/** Manual matches are a handful in practice; a page shows the newest ones and says how many more. */
export const MANUAL_MATCHES_SHOWN = 200;

export const memberFilters = ["all", "matched", "unmatched", "inactive"] as const;
export type MemberFilter = (typeof memberFilters)[number];
export type MemberStatus = Exclude<MemberFilter, "all">;

export interface MembersQuery {
  filter: MemberFilter;
  /** Page of the members list. */
  page: number;
  /** Page of the unmatched identities. */
  identityPage: number;
}

const FILTER_LABELS: Record<MemberFilter, string> = {
  all: "All",
  matched: "Matched",
  unmatched: "Unmatched",
  inactive: "Inactive",
};

const SOURCE_LABELS: Record<MatchSource, string> = {
  manual: "matched by hand",
  id: "linked GitHub account",
  email: "same email",
};

export function membersHref(installationId: number, query: MembersQuery, suffix = ""): string {
  const params = new URLSearchParams();
  if (query.filter !== "all") params.set("filter", query.filter);
  if (query.page > 1) params.set("page", String(query.page));
  if (query.identityPage > 1) params.set("ipage", String(query.identityPage));
  const search = params.toString();
  return `${installationPath(installationId, "members")}${suffix}${search ? `?${search}` : ""}`;
}

export function memberActions(installationId: number) {
  const base = installationPath(installationId, "members");
  return { match: `${base}/matches`, unmatch: `${base}/matches/delete`, matchPage: `${base}/match` };
}

export function matchPageHref(installationId: number, identity: string, returnTo: string): string {
  const params = new URLSearchParams({ identity });
  if (returnTo !== installationPath(installationId, "members")) params.set("returnTo", returnTo);
  return `${memberActions(installationId).matchPage}?${params.toString()}`;
}

/** "@ada" for a linked account, else the name and email a commit carries. */
export function identityLabel(
  identity: Pick<CommitIdentity, "identity" | "authorLogin" | "authorEmail" | "authorName">,
) {
  const linked = identity.identity.startsWith("id:");
  return {
    primary: linked
      ? identity.authorLogin
        ? `@${identity.authorLogin}`
        : `GitHub user ${identity.identity.slice(3)}`
      : (identity.authorName ?? identity.authorEmail ?? identity.identity),
    secondary: linked ? identity.authorEmail : identity.authorName ? identity.authorEmail : null,
  };
}

function plural(count: number, one: string, many: string): string {
  return `${formatCount(count)} ${count === 1 ? one : many}`;
}

function pagination(page: number, total: number, size: number, href: (page: number) => string) {
  const pages = Math.max(1, Math.ceil(total / size));
  const current = Math.min(page, pages);
  return {
    page: current,
    pages,
    previous: current > 1 ? href(current - 1) : null,
    next: current < pages ? href(current + 1) : null,
  };
}

function statusOf(member: Member, matched: number): MemberStatus {
  if (!member.active) return "inactive";
  return matched > 0 ? "matched" : "unmatched";
}

/** Who made a manual match: a member's login, the viewer, or the bare GitHub id. */
function matcherName(userId: number, logins: Map<number, string>, viewer: { userId: number; login: string }) {
  if (userId === viewer.userId) return `@${viewer.login}`;
  const login = logins.get(userId);
  return login ? `@${login}` : `GitHub user ${userId}`;
}

/**
 * Everything the members page shows: the members with their match status and identities, the
 * unmatched commit identities (most commits first), and the matches admins made. One read of
 * the installation's commit counts per author (listCommitIdentities) feeds all three.
 */
export async function buildMembersViewModel(
  db: Db,
  installation: Installation,
  query: MembersQuery,
  viewer: { userId: number; login: string },
) {
  const header = {
    title: `Members · ${installation.accountLogin}`,
    installation: installationHeader(installation, "members"),
  };
  if (installation.accountType !== "Organization") return { ...header, personal: true as const };

  const [members, identities, matches] = await Promise.all([
    listMembers(db, installation.id),
    listCommitIdentities(db, installation.id),
    listIdentityMatches(db, installation.id),
  ]);
  const returnTo = membersHref(installation.id, query);
  const logins = new Map(members.map((member) => [member.userId, member.login]));
  const byMember = new Map<number, CommitIdentity[]>();
  for (const identity of identities) {
    if (identity.memberUserId === null) continue;
    const list = byMember.get(identity.memberUserId) ?? [];
    list.push(identity);
    byMember.set(identity.memberUserId, list);
  }

  const memberRows = members.map((member) => {
    const own = byMember.get(member.userId) ?? [];
    const status = statusOf(member, own.length);
    return {
      userId: member.userId,
      login: member.login,
      name: member.name,
      bot: member.type === "Bot",
      status,
      statusLabel: FILTER_LABELS[status],
      leftAt: member.active ? null : timeView(member.leftAt),
      commits: plural(
        own.reduce((sum, identity) => sum + identity.commits, 0),
        "commit",
        "commits",
      ),
      identities: own.map((identity) => {
        const label = identityLabel(identity);
        return {
          identity: identity.identity,
          ...label,
          commits: plural(identity.commits, "commit", "commits"),
          source: SOURCE_LABELS[identity.matchedBy!],
          unmatchLabel: identity.manual
            ? `Remove the manual match of ${label.primary}`
            : `${label.primary} is not @${member.login}`,
        };
      }),
    };
  });
  const counts: Record<MemberFilter, number> = {
    all: memberRows.length,
    matched: 0,
    unmatched: 0,
    inactive: 0,
  };
  for (const row of memberRows) counts[row.status] += 1;
  const filtered =
    query.filter === "all" ? memberRows : memberRows.filter((row) => row.status === query.filter);
  const membersPages = pagination(query.page, filtered.length, MEMBERS_PAGE_SIZE, (page) =>
    membersHref(installation.id, { ...query, page }),
  );

  // Bots' commits belong to no member and need no decision: listed apart, they do not crowd the people.
  const unmatchedAll = identities.filter((identity) => identity.memberUserId === null);
  const unmatched = unmatchedAll.filter((identity) => !isBotCommitAuthor(identity));
  const bots = unmatchedAll.filter(isBotCommitAuthor);
  const identityPages = pagination(
    query.identityPage,
    unmatched.length,
    IDENTITIES_PAGE_SIZE,
    (identityPage) => membersHref(installation.id, { ...query, identityPage }),
  );
  const unmatchedCommits = unmatched.reduce((sum, identity) => sum + identity.commits, 0);

  const identityByKey = new Map(identities.map((identity) => [identity.identity, identity]));

  return {
    ...header,
    personal: false as const,
    summary: [
      plural(counts.all, "member", "members"),
      `${formatCount(counts.matched)} matched`,
      `${formatCount(counts.unmatched)} unmatched`,
      `${formatCount(counts.inactive)} inactive`,
    ].join(" · "),
    returnTo,
    actions: memberActions(installation.id),
    identities: {
      totalText:
        unmatched.length === 0
          ? "Every commit identity belongs to a member."
          : `${plural(unmatched.length, "identity", "identities")} with ${plural(unmatchedCommits, "commit", "commits")} belong to no member.`,
      rows: unmatched
        .slice((identityPages.page - 1) * IDENTITIES_PAGE_SIZE, identityPages.page * IDENTITIES_PAGE_SIZE)
        .map((identity) => ({
          identity: identity.identity,
          ...identityLabel(identity),
          email: identity.authorEmail,
          commits: formatCount(identity.commits),
          // An admin said "not this member": say whom, and offer to take it back.
          notMember:
            identity.manual && identity.automaticMemberUserId !== null
              ? `Not @${logins.get(identity.automaticMemberUserId) ?? identity.automaticMemberUserId}, by hand`
              : identity.manual
                ? "Kept unmatched by hand"
                : null,
          matchHref: matchPageHref(installation.id, identity.identity, returnTo),
        })),
      pagination: identityPages,
    },
    botIdentities: {
      totalText: `${plural(bots.length, "bot", "bots")} with ${plural(
        bots.reduce((sum, identity) => sum + identity.commits, 0),
        "commit",
        "commits",
      )}.`,
      rows: bots.slice(0, BOT_IDENTITIES_SHOWN).map((identity) => ({
        ...identityLabel(identity),
        email: identity.authorEmail,
        commits: formatCount(identity.commits),
      })),
      more:
        bots.length > BOT_IDENTITIES_SHOWN
          ? `and ${plural(bots.length - BOT_IDENTITIES_SHOWN, "more bot", "more bots")}`
          : null,
    },
    members: {
      filters: memberFilters.map((filter) => ({
        label: `${FILTER_LABELS[filter]} ${formatCount(counts[filter])}`,
        selected: filter === query.filter,
        href: membersHref(installation.id, { ...query, filter, page: 1 }),
      })),
      rows: filtered.slice(
        (membersPages.page - 1) * MEMBERS_PAGE_SIZE,
        membersPages.page * MEMBERS_PAGE_SIZE,
      ),
      empty:
        counts.all === 0
          ? "No members yet. They appear after the nightly members sync."
          : `No ${FILTER_LABELS[query.filter].toLowerCase()} members.`,
      pagination: membersPages,
    },
    manualMatches: {
      rows: matches
        .slice(0, MANUAL_MATCHES_SHOWN)
        .map((match) => manualMatchRow(match, identityByKey, logins, viewer)),
      more:
        matches.length > MANUAL_MATCHES_SHOWN
          ? `and ${plural(matches.length - MANUAL_MATCHES_SHOWN, "older match", "older matches")}`
          : null,
    },
  };
}

function manualMatchRow(
  match: IdentityMatchRow,
  identities: Map<string, CommitIdentity>,
  logins: Map<number, string>,
  viewer: { userId: number; login: string },
) {
  const identity = identities.get(match.identity);
  const label = identity
    ? identityLabel(identity)
    : { primary: match.identity.replace(/^(id|email):/, ""), secondary: null };
  return {
    identity: match.identity,
    ...label,
    commits: identity ? plural(identity.commits, "commit", "commits") : "No stored commits",
    member:
      match.memberUserId === null
        ? null
        : `@${logins.get(match.memberUserId) ?? `GitHub user ${match.memberUserId}`}`,
    matchedBy: matcherName(match.matchedByUserId, logins, viewer),
    matchedAt: timeView(match.matchedAt),
  };
}

export type MatchFormErrors = Partial<Record<"identity" | "memberUserId", string>>;

/** The form that matches one identity to a member, with the values and errors of a refused post. */
export async function buildMatchViewModel(
  db: Db,
  installation: Installation,
  form: {
    identity: CommitIdentity | undefined;
    rawIdentity: string;
    memberUserId: string;
    returnTo: string;
    errors: MatchFormErrors;
  },
) {
  const members = await listMembers(db, installation.id);
  const option = (member: Member) => ({
    value: String(member.userId),
    label: `${member.login}${member.name ? ` (${member.name})` : ""}`,
    selected: String(member.userId) === form.memberUserId,
  });
  const current = form.identity;
  const currentMember =
    current?.memberUserId != null
      ? members.find((member) => member.userId === current.memberUserId)
      : undefined;
  return {
    title: `Match a commit identity · ${installation.accountLogin}`,
    installation: installationHeader(installation, "members"),
    action: memberActions(installation.id).match,
    returnTo: form.returnTo,
    identity: current
      ? {
          value: current.identity,
          ...identityLabel(current),
          commits: plural(current.commits, "commit", "commits"),
          currently: currentMember
            ? `Now matched to @${currentMember.login} (${SOURCE_LABELS[current.matchedBy!]}).`
            : "Now matched to no member.",
        }
      : { value: form.rawIdentity, primary: null, secondary: null, commits: null, currently: null },
    memberUserId: form.memberUserId,
    active: members.filter((member) => member.active).map(option),
    inactive: members.filter((member) => !member.active).map(option),
    errors: form.errors,
  };
}
