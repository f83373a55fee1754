import fastifyHelmet from "@fastify/helmet";
import type { FastifyInstance } from "fastify";
import fp from "fastify-plugin";
import type { Config } from "../config.js";

/**
 * Security headers on every response (@fastify/helmet): a Content-Security-Policy without inline
 * script or style (htmx and app.js are files of this origin), no framing, and no Referer leaving
 * the origin. Forms post to this origin, or to GitHub for the App's manifest in setup mode.
 */
export const securityHeaders = fp(async (app: FastifyInstance, options: { config: Config }) => {
  await app.register(fastifyHelmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", "data:"],
        connectSrc: ["'self'"],
        formAction: ["'self'", options.config.github.webUrl],
        frameAncestors: ["'none'"],
        baseUri: ["'self'"],
        objectSrc: ["'none'"],
      },
    },
    referrerPolicy: { policy: "same-origin" },
    // HSTS only makes sense (and is only sent) when the App is served over https.
    strictTransportSecurity: options.config.baseUrl.startsWith("https:"),
    crossOriginEmbedderPolicy: false,
  });
});
