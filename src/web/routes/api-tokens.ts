import type { FastifyInstance } from "fastify";
import { createApiToken, revokeApiToken } from "../../db/queries/api-tokens.js";
import { form, id, installationParams, noQuery, text, type ZodTypeProvider } from "../contract.js";
import { generateApiToken } from "../api-token.js";
import { page, setFlash } from "../render.js";
import type { UiContext } from "../ui.js";
import { installationPath } from "../view-models/installation.js";
import { buildSettingsViewModel } from "../view-models/settings.js";
import { z } from "zod";

/**
 * The settings page's API tokens: an admin creates one (shown once, on the page that answers the
 * form, never stored or sent again) and revokes one. The read API is src/web/routes/api.ts.
 */

const tokenForm = form({
  name: text(100)
    .transform((name) => name.trim())
    .pipe(z.string().min(1, "Give the token a name.")),
});

export async function apiTokenRoutes(fastify: FastifyInstance, context: UiContext) {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const base = "/installations/:installationId/settings/api-tokens";
  const access = { access: "installation-admin" as const };

  app.post(
    base,
    { schema: { params: installationParams, querystring: noQuery, body: tokenForm }, config: access },
    async (request, reply) => {
      const { installation, admin } = request;
      const { token, tokenHash, prefix } = generateApiToken();
      await createApiToken(context.database.db, {
        installationId: installation.id,
        name: request.body.name,
        tokenHash,
        prefix,
        createdById: admin.userId,
        createdByLogin: admin.login,
      });
      // The token is in this answer only: never in a redirect, a cookie or a log line.
      const model = await buildSettingsViewModel(context.database.db, installation, {
        createdToken: { name: request.body.name, token },
      });
      return page(request, reply, "settings", model);
    },
  );

  app.post(
    `${base}/:tokenId/revoke`,
    {
      schema: {
        params: installationParams.extend({ tokenId: id }),
        querystring: noQuery,
        body: form({}),
      },
      config: access,
    },
    async (request, reply) => {
      const { installation } = request;
      const revoked = await revokeApiToken(
        context.database.db,
        installation.id,
        request.params.tokenId,
        context.now(),
      );
      setFlash(
        reply,
        revoked
          ? { kind: "ok", text: "Token revoked." }
          : { kind: "error", text: "No such token to revoke." },
      );
      return reply.redirect(`${installationPath(installation.id, "settings")}#api-tokens`, 303);
    },
  );
}
