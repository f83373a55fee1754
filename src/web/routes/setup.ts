import { randomBytes } from "node:crypto";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Config } from "../../config.js";
import type { Database } from "../../db/client.js";
import {
  findAppRegistration,
  recordAppRegistration,
  withRegistrationLock,
  type AppRegistration,
} from "../../db/queries/app-registration.js";
import { AppError, InvalidInputError } from "../../errors.js";
import { buildManifest, completeRegistration, newAppUrl, type RegisteredApp } from "../../github/manifest.js";
import { query, text, type ZodTypeProvider } from "../contract.js";
import {
  isSetupToken,
  isSetupTokenRequired,
  readSetupSession,
  writeSetupSession,
  type SetupSession,
} from "../setup-token.js";
import { sameSecret } from "../state-cookie.js";

export interface SetupRouteOptions {
  config: Config;
  database: Database;
  /** Called once the credentials are stored: the runtime switches to them. */
  onRegistered: (app: RegisteredApp) => void;
  /** Why switching to the registered App's credentials failed, if it did. */
  problem: () => string | undefined;
}

/**
 * Setup mode (no App credentials): the GitHub App manifest flow, for whoever holds the setup link.
 * The home page posts app.yml to GitHub; GitHub redirects back with a one-time code, which is
 * traded for the credentials. The signed setup cookie holds the setup token and a random state,
 * which ties the callback to the browser that started the flow. Registration is single-shot across
 * every replica: it is recorded under a Postgres advisory lock, and later callbacks get 409.
 */
export async function setupRoutes(fastify: FastifyInstance, options: SetupRouteOptions) {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const { config, database } = options;
  const tokenRequired = isSetupTokenRequired(config);

  /** The setup session of a request that may see setup pages, else undefined (answered 403). */
  const admit = (request: FastifyRequest): SetupSession | undefined => {
    const session = readSetupSession(request);
    if (!tokenRequired) return session ?? { token: "", state: "" };
    return session && isSetupToken(config, session.token) ? session : undefined;
  };

  const home = {
    schema: { querystring: query({ token: text(200).optional() }) },
    config: { access: "public" as const },
  };
  app.get("/", home, async (request, reply) => {
    reply.header("cache-control", "no-store");
    const { token } = request.query;
    if (token !== undefined) {
      if (!isSetupToken(config, token)) return forbidden(reply);
      writeSetupSession(reply, config, { token, state: "" });
      // Out of the address bar, the history and any Referer.
      return reply.redirect("/", 303);
    }
    const session = admit(request);
    if (!session) return forbidden(reply);
    const registration = await findAppRegistration(database.db);
    if (registration) return alreadyRegistered(reply, registration, options.problem());

    const state = randomBytes(16).toString("hex");
    writeSetupSession(reply, config, { token: session.token, state });
    const manifest = await buildManifest(config);
    return reply.view("setup", {
      title: "Setup",
      action: newAppUrl(config, state),
      manifest: JSON.stringify(manifest),
      githubUrl: config.github.webUrl,
      owner: config.github.org ? `the ${config.github.org} organization` : "your user account",
      webhookUrl: manifest.hook_attributes.url,
    });
  });

  const callback = {
    schema: { querystring: query({ code: text(200).optional(), state: text(200).optional() }) },
    config: { access: "public" as const },
  };
  app.get("/setup/callback", callback, async (request, reply) => {
    reply.header("cache-control", "no-store");
    const session = admit(request);
    if (!session) return forbidden(reply);
    const { code, state } = request.query;
    // The state is single-use; the token stays, so the flow can be started again.
    writeSetupSession(reply, config, { token: session.token, state: "" });
    const stateMatches = Boolean(state && session.state && sameSecret(state, session.state));
    if (!stateMatches || !code || !/^[\w-]{1,100}$/.test(code)) {
      return reply.code(400).view("message", {
        title: "Setup",
        heading: "This link has expired",
        message: "Start the registration again from the home page.",
      });
    }

    let outcome: { registered: RegisteredApp } | { existing: AppRegistration };
    try {
      outcome = await withRegistrationLock(database, async (db) => {
        const existing = await findAppRegistration(db);
        if (existing) return { existing };
        const registered = await completeRegistration(config, code);
        await recordAppRegistration(db, {
          appId: registered.id,
          slug: registered.slug,
          htmlUrl: registered.htmlUrl,
          registeredAt: new Date().toISOString(),
        });
        return { registered };
      });
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      const refused = error instanceof InvalidInputError;
      request.log.warn({ code: error.code, reason: error.message }, "github app registration failed");
      return reply.code(refused ? 400 : 502).view("message", {
        title: "Setup",
        heading: refused ? "GitHub refused this registration" : "GitHub could not be reached",
        message: "Start the registration again from the home page.",
      });
    }
    if ("existing" in outcome) return alreadyRegistered(reply, outcome.existing, options.problem());

    const { registered } = outcome;
    request.log.info({ appId: registered.id }, "github app registered");
    options.onRegistered(registered);
    return reply.view("setup-complete", {
      title: "Registered",
      appId: registered.id,
      installUrl: `${registered.htmlUrl}/installations/new`,
    });
  });
}

function forbidden(reply: FastifyReply) {
  return reply.code(403).view("message", {
    title: "Setup",
    heading: "Open the setup link",
    message:
      "PR Pulse is in setup mode, which only the person who started it may finish. Open the setup " +
      'link the server printed in its log when it started (the line "setup mode: open the setup link ' +
      'to register the GitHub App", field setupUrl).',
  });
}

/** A second registration is refused; the page says what happened to the first. */
function alreadyRegistered(reply: FastifyReply, registration: AppRegistration, problem: string | undefined) {
  return reply.code(409).view("message", {
    title: "Setup",
    heading: `GitHub App #${registration.appId} is already registered`,
    message: problem
      ? `PR Pulse could not switch to its credentials: ${problem}. Fix this and restart PR Pulse.`
      : "This deployment registers one App. PR Pulse switches to it on the instance that registered " +
        "it; start the others with its credentials (APP_ID, PRIVATE_KEY, WEBHOOK_SECRET). To register " +
        "another App instead, delete the app_state row 'github_app_registration' and restart.",
  });
}
