import { randomBytes, timingSafeEqual } from "node:crypto";
import type { FastifyInstance } from "fastify";
import type { Config } from "../../config.js";
import { buildManifest, completeRegistration, newAppUrl, type RegisteredApp } from "../../github/manifest.js";

export interface SetupRouteOptions {
  config: Config;
  /** Called once the credentials are stored: main.ts restarts the app with them. */
  onRegistered: (app: RegisteredApp) => void;
}

const STATE_COOKIE = "pr_pulse_setup_state";

function sameToken(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/**
 * Setup mode (no App credentials): the GitHub App manifest flow. The home page posts app.yml to
 * GitHub; GitHub redirects back with a one-time code, which is traded for the credentials. A random
 * state, kept in a signed cookie, ties the callback to the browser that started the flow.
 */
export async function setupRoutes(app: FastifyInstance, options: SetupRouteOptions) {
  const { config } = options;

  app.get("/", async (_request, reply) => {
    const state = randomBytes(16).toString("hex");
    const manifest = await buildManifest(config);
    reply.setCookie(STATE_COOKIE, state, {
      path: "/setup",
      httpOnly: true,
      sameSite: "lax",
      signed: true,
      maxAge: 3600,
    });
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
    const cookie = request.unsignCookie(request.cookies[STATE_COOKIE] ?? "");
    if (
      !code ||
      !/^[\w-]{1,100}$/.test(code) ||
      !state ||
      !cookie.valid ||
      !cookie.value ||
      !sameToken(state, cookie.value)
    ) {
      return reply.code(400).view("message", {
        title: "Setup",
        heading: "This link has expired",
        message: "Start the registration again from the home page.",
      });
    }
    const registered = await completeRegistration(config, code);
    reply.clearCookie(STATE_COOKIE, { path: "/setup" });
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
