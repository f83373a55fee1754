import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
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
import type { RequestInputError } from "../../errors.js";
import {
  form,
  installationParams,
  optionalText,
  pageNumber,
  query,
  returnTo,
  text,
  type ZodTypeProvider,
} from "../contract.js";
import { page, setFlash, type Flash } from "../render.js";
import type { UiContext } from "../ui.js";
import { installationPath } from "../view-models/installation.js";
import {
  buildMatchViewModel,
  buildMembersViewModel,
  identityLabel,
  memberFilters,
  type MatchFormErrors,
} from "../view-models/members.js";

/**
 * The members of an installation and the commit identities matched to them: match an identity
 * to a member by hand (on a page of its own, so it works without JavaScript), and unmatch. Every
 * change is a form posted to its own URL and answered with a redirect and a flash message, or
 * with the form again, a message beside the field that was refused.
 */

const membersQuery = query({
  filter: z.enum(memberFilters).optional().default("all"),
  page: pageNumber,
  ipage: pageNumber,
});

/** A form field a person chose or typed: one value, text Postgres can hold. */
const chosen = (missing: string) => text(400, missing).trim().min(1, missing);

const identityField = chosen("Choose a commit identity.").refine(
  (value) => parseIdentityKey(value) !== null,
  "This is not a commit identity.",
);
const memberField = chosen("Choose a member.").refine(
  (value) => /^[1-9][0-9]{0,15}$/.test(value),
  "Choose one of the organization's members.",
);

// The match page may be opened with any identity: what is not one here is answered with a message.
const matchPageQuery = query({ identity: optionalText(4000), returnTo });
const matchForm = form({ identity: identityField, memberUserId: memberField, returnTo });
// What to unmatch is decided by the handler, which says why it cannot.
const unmatchForm = form({ identity: optionalText(400), returnTo });

/** Only strings are echoed back into a form: a repeated field is not what anyone typed. */
function typed(body: unknown, name: string): string {
  const value = (body as Record<string, unknown> | undefined)?.[name];
  return typeof value === "string" ? value : "";
}

type UnmatchOutcome =
  | { kind: "removed"; identity: CommitIdentity | undefined }
  | { kind: "overruled" | "unmatched"; identity: CommitIdentity }
  | { kind: "unknown" };

/** The first message for each field of the match form the schema refused. */
function fieldErrors(error: RequestInputError): MatchFormErrors {
  const errors: MatchFormErrors = {};
  for (const issue of error.issues) {
    if ((issue.field === "identity" || issue.field === "memberUserId") && !errors[issue.field]) {
      errors[issue.field] = issue.message;
    }
  }
  return errors;
}

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

export async function memberRoutes(fastify: FastifyInstance, context: UiContext) {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const base = "/installations/:installationId/members";
  const access = "installation-admin" as const;

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

  const list = { schema: { params: installationParams, querystring: membersQuery }, config: { access } };
  app.get(base, list, async (request, reply) => {
    const { filter, page: memberPage, ipage } = request.query;
    const model = await buildMembersViewModel(
      context.database.db,
      request.installation,
      { filter, page: memberPage, identityPage: ipage },
      request.admin,
    );
    return page(request, reply, "members", model);
  });

  const matchPage = {
    schema: { params: installationParams, querystring: matchPageQuery },
    config: { access },
  };
  app.get(`${base}/match`, matchPage, async (request, reply) => {
    const { installation } = request;
    if (installation.accountType !== "Organization") return refusePersonal(installation, reply);
    const rawIdentity = request.query.identity;
    const identity = await lookUpIdentity(installation, rawIdentity);
    const errors: MatchFormErrors = identity ? {} : { identity: identityError(rawIdentity) };
    const model = await buildMatchViewModel(context.database.db, installation, {
      identity,
      rawIdentity,
      memberUserId: identity?.memberUserId != null ? String(identity.memberUserId) : "",
      returnTo: back(installation, request.query.returnTo),
      errors,
    });
    return page(request, reply.code(identity ? 200 : 404), "match-identity", model);
  });

  /** The match form again, as typed, with a message beside each refused field (status 400). */
  async function refuseMatch(request: FastifyRequest, reply: FastifyReply, errors: MatchFormErrors) {
    const { installation } = request;
    const rawIdentity = typed(request.body, "identity").trim();
    const identity = errors.identity ? undefined : await lookUpIdentity(installation, rawIdentity);
    if (!errors.identity && !identity) errors.identity = identityError(rawIdentity);
    const model = await buildMatchViewModel(context.database.db, installation, {
      identity,
      rawIdentity,
      memberUserId: typed(request.body, "memberUserId").trim(),
      returnTo: back(installation, typed(request.body, "returnTo")),
      errors,
    });
    return page(request, reply.code(400), "match-identity", model);
  }

  const match = {
    schema: { params: installationParams, body: matchForm },
    config: {
      access,
      invalidInput: (request: FastifyRequest, reply: FastifyReply, error: RequestInputError) =>
        refuseMatch(request, reply, fieldErrors(error)),
    },
  };
  app.post(`${base}/matches`, match, async (request, reply) => {
    const { installation, admin, body } = request;
    if (installation.accountType !== "Organization") return refusePersonal(installation, reply);
    const identity = await lookUpIdentity(installation, body.identity);
    const member = await findMember(context.database.db, installation.id, Number(body.memberUserId));
    if (!identity || !member) {
      return refuseMatch(
        request,
        reply,
        member ? {} : { memberUserId: "Choose one of the organization's members." },
      );
    }
    await saveIdentityMatch(context.database.db, {
      installationId: installation.id,
      identity: identity.identity,
      memberUserId: member.userId,
      matchedByUserId: admin.userId,
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
    return reply.redirect(back(installation, body.returnTo), 303);
  });

  const unmatchRoute = { schema: { params: installationParams, body: unmatchForm }, config: { access } };
  app.post(`${base}/matches/delete`, unmatchRoute, async (request, reply) => {
    const { installation, admin, body } = request;
    if (installation.accountType !== "Organization") return refusePersonal(installation, reply);
    const returnPath = back(installation, body.returnTo);
    const key = body.identity.trim();
    if (parseIdentityKey(key) === null) {
      setFlash(reply, { kind: "error", text: "Choose a commit identity to unmatch." });
      return reply.redirect(returnPath, 303);
    }
    const outcome = await unmatch(installation, key, admin.userId);
    setFlash(reply, unmatchMessage(outcome, key));
    request.log.info(
      { installationId: installation.id, outcome: outcome.kind },
      "identity unmatched by hand",
    );
    return reply.redirect(returnPath, 303);
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
