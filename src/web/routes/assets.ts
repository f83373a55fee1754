import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import type { FastifyInstance } from "fastify";
import { noQuery } from "../contract.js";

/** A day: the files change only with a new version of the App, which restarts the server. */
const CACHE = "public, max-age=86400";

/**
 * The UI's static files, served by the App itself (no CDN: it works offline and behind firewalls):
 * the stylesheet, htmx from its npm package, app.js (times in the viewer's zone, confirmations),
 * and the icon.
 */
export async function assetRoutes(app: FastifyInstance, options: { viewsDir: string }) {
  const require = createRequire(import.meta.url);
  const own = (name: string) => readFile(path.join(options.viewsDir, "assets", name));
  const files: Record<string, { type: string; body: Buffer }> = {
    "/assets/app.css": { type: "text/css", body: await own("app.css") },
    "/assets/app.js": { type: "text/javascript", body: await own("app.js") },
    "/assets/htmx.min.js": {
      type: "text/javascript",
      body: await readFile(require.resolve("htmx.org/dist/htmx.min.js")),
    },
    // The layout links the SVG; /favicon.ico is for what asks for it anyway (feed readers, bookmarks).
    "/favicon.svg": { type: "image/svg+xml", body: await own("favicon.svg") },
    "/favicon.ico": { type: "image/x-icon", body: await own("favicon.ico") },
  };
  for (const [url, file] of Object.entries(files)) {
    app.get(
      url,
      { schema: { querystring: noQuery }, config: { access: "public" } },
      async (_request, reply) => reply.type(file.type).header("cache-control", CACHE).send(file.body),
    );
  }
}
