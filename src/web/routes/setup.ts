import type { FastifyInstance } from "fastify";
import type { Config } from "../../config.js";
import { buildManifest, completeRegistration, newAppUrl, type RegisteredApp } from "../../github/manifest.js";
import { issueState, takeState, type StateCookie } from "../state-cookie.js";

export interface SetupRouteOptions {
  config: Config;
  /** Called once the credentials are stored: main.ts restarts the app with them. */
  onRegistered: (app: RegisteredApp) => void;
}

/**
 * Setup mode (no App credentials): the GitHub App manifest flow. The home page posts app.yml to
 * GitHub; GitHub redirects back with a one-time code, which is traded for the credentials. A random
 * state, kept in a signed cookie, ties the callback to the browser that started the flow.
 */
export async function setupRoutes(app: FastifyInstance, options: SetupRouteOptions) {
  const { config } = options;
  const stateCookie: StateCookie = {
    name: "pr_pulse_setup_state",
    path: "/setup",
    // GitHub's manifest codes are valid for an hour.
    maxAgeSeconds: 3600,
    secure: config.baseUrl.startsWith("https:"),
  };

  app.get("/", async (_request, reply) => {
    const state = issueState(reply, stateCookie);
    const manifest = await buildManifest(config);
    return reply.view("setup", {
      title: "Setup",
      action: newAppUrl(config, state),
      manifest: JSON.stringify(manifest),
      githubUrl: config.github.webUrl,
      owner: config.github.org ? `the ${config.github.org} organization` : "your user account",
      webhookUrl: manifest.hook_attributes.url,
      envFile: config.envFile,
    });
  });

  app.get<{ Querystring: { code?: string; state?: string } }>("/setup/callback", async (request, reply) => {
    const { code, state } = request.query;
    if (!takeState(request, reply, stateCookie, state) || !code || !/^[\w-]{1,100}$/.test(code)) {
      return reply.code(400).view("message", {
        title: "Setup",
        heading: "This link has expired",
        message: "Start the registration again from the home page.",
      });
    }
    const registered = await completeRegistration(config, code);
    request.log.info({ appId: registered.id }, "github app registered");
    options.onRegistered(registered);
    return reply.view("setup-complete", {
      title: "Registered",
      appId: registered.id,
      envFile: config.envFile,
      installUrl: `${registered.htmlUrl}/installations/new`,
    });
  });
}
