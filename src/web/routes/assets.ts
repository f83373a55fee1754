import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import type { FastifyInstance } from "fastify";
import { noQuery } from "../contract.js";

/** A day: the files change only with a new version of the App, which restarts the server. */
const CACHE = "public, max-age=86400";

/**
 * The UI's static files, served by the App itself (no CDN: it works offline and behind firewalls):
 * the stylesheet, htmx from its npm package, and app.js (times in the viewer's zone, confirmations).
 */
export async function assetRoutes(app: FastifyInstance, options: { viewsDir: string }) {
  const require = createRequire(import.meta.url);
  const files: Record<string, { type: string; body: Buffer }> = {
    "app.css": { type: "text/css", body: await readFile(path.join(options.viewsDir, "assets", "app.css")) },
    "app.js": {
      type: "text/javascript",
      body: await readFile(path.join(options.viewsDir, "assets", "app.js")),
    },
    "htmx.min.js": {
      type: "text/javascript",
      body: await readFile(require.resolve("htmx.org/dist/htmx.min.js")),
    },
  };
  for (const [name, file] of Object.entries(files)) {
    app.get(
      `/assets/${name}`,
      { schema: { querystring: noQuery }, config: { access: "public" } },
      async (_request, reply) => reply.type(file.type).header("cache-control", CACHE).send(file.body),
    );
  }
}
