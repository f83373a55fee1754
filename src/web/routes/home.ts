import type { FastifyInstance } from "fastify";
import type { Config } from "../../config.js";
import type { Database } from "../../db/client.js";
import { oauthClient } from "../../github/oauth.js";
import { buildHomeViewModel } from "../view-models/home.js";

export interface HomeRouteOptions {
  config: Config;
  database: Database;
}

/** Signed out: the sign-in page. Signed in: the installations the user administers, nothing else. */
export async function homeRoutes(app: FastifyInstance, options: HomeRouteOptions) {
  const { config } = options;

  app.get("/", async (request, reply) => {
    // The same URL answers for different users: no cache may keep either page.
    reply.header("cache-control", "no-store");
    const session = request.session;
    if (!session) {
      return reply.view("login", { title: "Sign in", oauthConfigured: Boolean(oauthClient(config)) });
    }
    const installUrl = `${config.github.webUrl}/apps`;
    const model = await buildHomeViewModel(options.database.db, installUrl, session.installationIds);
    return reply.view("home", {
      ...model,
      viewer: { login: session.login, csrfToken: reply.generateCsrf() },
    });
  });
}
