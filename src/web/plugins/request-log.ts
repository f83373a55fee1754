import type { FastifyInstance } from "fastify";
import { redactUrl } from "../../logger.js";

/**
 * For a person at a terminal (LOG_FORMAT=pretty), Fastify's two lines per request at info drown
 * what matters. The server is built with its request logging off, and each request gets one
 * short line at debug instead; failures are still logged by the error handler.
 */
export function logRequestsQuietly(app: FastifyInstance): void {
  app.addHook("onResponse", async (request, reply) => {
    request.log.debug(
      {
        method: request.method,
        // Redacted as Fastify's own request lines are: callbacks carry OAuth and manifest codes.
        url: redactUrl(request.url),
        statusCode: reply.statusCode,
        ms: Math.round(reply.elapsedTime),
      },
      "request",
    );
  });
}
