import type { FastifyInstance } from "fastify";
import { oauthClient } from "../../github/oauth.js";
import { confirmedInstallations } from "../access.js";
import { noQuery } from "../contract.js";
import { page } from "../render.js";
import type { UiContext } from "../ui.js";
import { buildHomeViewModel } from "../view-models/home.js";

/** Signed out: the sign-in page. Signed in: the installations the user administers, nothing else. */
export async function homeRoutes(app: FastifyInstance, context: UiContext) {
  app.get("/", { schema: { querystring: noQuery }, config: { access: "user" } }, async (request, reply) => {
    const session = request.session;
    if (!session) {
      return page(request, reply, "login", {
        title: "Sign in",
        oauthConfigured: Boolean(oauthClient(context.config)),
      });
    }
    const allowed = await confirmedInstallations(context.access, session);
    const model = await buildHomeViewModel(context.database.db, allowed, context.now());
    // Only someone with nothing to see gets the link to install the App: its page is asked of GitHub.
    const app = model.installations.length === 0 ? await context.appInfo() : null;
    return page(request, reply, "home", {
      ...model,
      installUrl: app ? `${app.htmlUrl}/installations/new` : `${context.config.github.webUrl}/apps`,
    });
  });
}
