import type { FastifyInstance, FastifyReply } from "fastify";
import { z } from "zod";
import {
  deleteIdentityMatch,
  findCommitIdentity,
  findMember,
  parseIdentityKey,
  saveIdentityMatch,
  type CommitIdentity,
} from "../../db/queries/members.js";
import type { Installation } from "../../db/schema/index.js";
import { openInstallation } from "../access.js";
import { page, setFlash, type Flash } from "../render.js";
import type { UiContext } from "../ui.js";
import { installationPath } from "../view-models/installation.js";
import {
  buildMatchViewModel,
  buildMembersViewModel,
  identityLabel,
  memberFilters,
  type MatchFormErrors,
  type MembersQuery,
} from "../view-models/members.js";

/**
 * The members of an installation and the commit identities matched to them: match an identity
 * to a member by hand (on a page of its own, so it works without JavaScript), and unmatch. Every
 * change is a form posted to its own URL and answered with a redirect and a flash message, or
 * with the form again, a message beside the field that was refused.
 */

type Params = { installationId: string };

const pageNumber = z.coerce.number().int().min(1).max(100_000).optional().default(1);
const querySchema = z.object({
  filter: z.enum(memberFilters).optional().default("all"),
  page: pageNumber,
  ipage: pageNumber,
});

function parseQuery(raw: unknown): MembersQuery {
  const parsed = querySchema.safeParse(raw);
  const value = parsed.success ? parsed.data : querySchema.parse({});
  return { filter: value.filter, page: value.page, identityPage: value.ipage };
}

/** A form field: one value, text Postgres can hold (a browser may send anything). */
const field = (missing: string) =>
  z
    .string({ error: missing })
    .trim()
    .min(1, missing)
    .max(400, "That value is too long.")
    .refine(
      (value) => !value.includes("\u0000") && value.isWellFormed(),
      "That value holds invalid characters.",
    );

const identityField = field("Choose a commit identity.").refine(
  (value) => parseIdentityKey(value) !== null,
  "This is not a commit identity.",
);
const memberField = field("Choose a member.").refine(
  (value) => /^[1-9][0-9]{0,15}$/.test(value),
  "Choose one of the organization's members.",
);
const returnToField = z
  .string()
  .optional()
  .catch(undefined)
  .transform((value) => value ?? "");

const matchForm = z.object({ identity: identityField, memberUserId: memberField, returnTo: returnToField });
const unmatchForm = z.object({ identity: identityField, returnTo: returnToField });

/** Only strings are echoed back into a form: a repeated field is not what anyone typed. */
function typed(body: unknown, name: string): string {
  const value = (body as Record<string, unknown> | undefined)?.[name];
  return typeof value === "string" ? value : "";
}

type UnmatchOutcome =
  | { kind: "removed"; identity: CommitIdentity | undefined }
  | { kind: "overruled" | "unmatched"; identity: CommitIdentity }
  | { kind: "unknown" };

function unmatchMessage(outcome: UnmatchOutcome, key: string): Flash {
  if (outcome.kind === "unknown") {
    return { kind: "error", text: "PR Pulse has no commit by that identity in this organization." };
  }
  const label = outcome.identity ? identityLabel(outcome.identity).primary : key;
  switch (outcome.kind) {
    case "unmatched":
      return { kind: "warn", text: `${label} is not matched to any member.` };
    case "removed":
      return {
        kind: "ok",
        text: `The manual match of ${label} is removed; PR Pulse matches it by its GitHub account or email again.`,
      };
    case "overruled":
      return { kind: "ok", text: `${label} is no longer matched to a member; every sync keeps it so.` };
  }
}

export async function memberRoutes(app: FastifyInstance, context: UiContext) {
  const base = "/installations/:installationId/members";

  /** Back to the members page the form came from (same filter and pages), else its first page. */
  function back(installation: Installation, returnPath: string): string {
    const prefix = installationPath(installation.id, "members");
    return returnPath === prefix || returnPath.startsWith(`${prefix}?`) ? returnPath : prefix;
  }

  /** Forms of a personal account's installation: there is no member to match to. */
  function refusePersonal(installation: Installation, reply: FastifyReply) {
    setFlash(reply, { kind: "warn", text: "A personal account has no members to match commits to." });
    return reply.redirect(installationPath(installation.id, "members"), 303);
  }

  app.get<{ Params: Params }>(base, async (request, reply) => {
    const opened = await openInstallation(context.access, request, reply);
    if (!opened) return;
    const model = await buildMembersViewModel(
      context.database.db,
      opened.installation,
      parseQuery(request.query),
      opened.session,
    );
    return page(request, reply, "members", model);
  });

  app.get<{ Params: Params }>(`${base}/match`, async (request, reply) => {
    const opened = await openInstallation(context.access, request, reply);
    if (!opened) return;
    const { installation } = opened;
    if (installation.accountType !== "Organization") return refusePersonal(installation, reply);
    const rawIdentity = typed(request.query, "identity");
    const identity = await lookUpIdentity(installation, rawIdentity);
    const errors: MatchFormErrors = identity ? {} : { identity: identityError(rawIdentity) };
    const model = await buildMatchViewModel(context.database.db, installation, {
      identity,
      rawIdentity,
      memberUserId: identity?.memberUserId != null ? String(identity.memberUserId) : "",
      returnTo: back(installation, typed(request.query, "returnTo")),
      errors,
    });
    return page(request, reply.code(identity ? 200 : 404), "match-identity", model);
  });

  app.post<{ Params: Params }>(`${base}/matches`, async (request, reply) => {
    const opened = await openInstallation(context.access, request, reply);
    if (!opened) return;
    const { installation, session } = opened;
    if (installation.accountType !== "Organization") return refusePersonal(installation, reply);
    const { identity, member, rawIdentity, rawMember, errors } = await checkMatchForm(
      installation,
      request.body,
    );
    const returnTo = back(installation, typed(request.body, "returnTo"));
    if (!identity || !member) {
      const model = await buildMatchViewModel(context.database.db, installation, {
        identity,
        rawIdentity,
        memberUserId: rawMember,
        returnTo,
        errors,
      });
      return page(request, reply.code(400), "match-identity", model);
    }
    await saveIdentityMatch(context.database.db, {
      installationId: installation.id,
      identity: identity.identity,
      memberUserId: member.userId,
      matchedByUserId: session.userId,
      now: context.now(),
    });
    request.log.info(
      { installationId: installation.id, memberUserId: member.userId },
      "identity matched by hand",
    );
    setFlash(reply, {
      kind: "ok",
      text: `${identityLabel(identity).primary} is now matched to @${member.login}; every sync keeps it so.`,
    });
    return reply.redirect(returnTo, 303);
  });

  app.post<{ Params: Params }>(`${base}/matches/delete`, async (request, reply) => {
    const opened = await openInstallation(context.access, request, reply);
    if (!opened) return;
    const { installation, session } = opened;
    if (installation.accountType !== "Organization") return refusePersonal(installation, reply);
    const form = unmatchForm.safeParse(request.body);
    const returnTo = back(installation, typed(request.body, "returnTo"));
    if (!form.success) {
      setFlash(reply, { kind: "error", text: "Choose a commit identity to unmatch." });
      return reply.redirect(returnTo, 303);
    }
    const outcome = await unmatch(installation, form.data.identity, session.userId);
    setFlash(reply, unmatchMessage(outcome, form.data.identity));
    request.log.info(
      { installationId: installation.id, outcome: outcome.kind },
      "identity unmatched by hand",
    );
    return reply.redirect(returnTo, 303);
  });

  /**
   * One decision at a time: a manual match is removed (the automatic rule applies again); an
   * automatic match is overruled by a match to nobody.
   */
  async function unmatch(installation: Installation, key: string, userId: number): Promise<UnmatchOutcome> {
    const db = context.database.db;
    const identity = await findCommitIdentity(db, installation.id, parseIdentityKey(key)!);
    if (await deleteIdentityMatch(db, installation.id, key)) return { kind: "removed", identity };
    if (!identity) return { kind: "unknown" };
    if (identity.memberUserId === null) return { kind: "unmatched", identity };
    await saveIdentityMatch(db, {
      installationId: installation.id,
      identity: key,
      memberUserId: null,
      matchedByUserId: userId,
      now: context.now(),
    });
    return { kind: "overruled", identity };
  }

  /** The identity and member a match form names, each found in this installation, or why not. */
  async function checkMatchForm(installation: Installation, body: unknown) {
    const form = matchForm.safeParse(body);
    const errors: MatchFormErrors = {};
    for (const issue of form.success ? [] : form.error.issues) {
      const name = issue.path[0];
      if ((name === "identity" || name === "memberUserId") && !errors[name]) errors[name] = issue.message;
    }
    const rawIdentity = typed(body, "identity").trim();
    const rawMember = typed(body, "memberUserId").trim();
    const identity = errors.identity ? undefined : await lookUpIdentity(installation, rawIdentity);
    if (!errors.identity && !identity) errors.identity = identityError(rawIdentity);
    const member = errors.memberUserId
      ? undefined
      : await findMember(context.database.db, installation.id, Number(rawMember));
    if (!errors.memberUserId && !member) errors.memberUserId = "Choose one of the organization's members.";
    return { identity, member, rawIdentity, rawMember, errors };
  }

  async function lookUpIdentity(
    installation: Installation,
    raw: string,
  ): Promise<CommitIdentity | undefined> {
    const key = raw.length <= 400 ? parseIdentityKey(raw) : null;
    return key ? findCommitIdentity(context.database.db, installation.id, key) : undefined;
  }

  function identityError(raw: string): string {
    return raw === ""
      ? "Choose a commit identity."
      : "PR Pulse has no commit by this identity in this organization.";
  }
}
