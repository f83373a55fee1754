import type { FastifyInstance } from "fastify";
import type { PgBoss } from "pg-boss";
import { pingDatabase, type Database } from "../../db/client.js";
import { noQuery } from "../contract.js";

export interface HealthRouteOptions {
  database: Database;
  boss: PgBoss | undefined;
}

/** /healthz: the process answers. /readyz: it can reach Postgres and the job queue. */
export async function healthRoutes(app: FastifyInstance, options: HealthRouteOptions) {
  const route = { schema: { querystring: noQuery }, config: { access: "public" as const } };
  app.get("/healthz", route, async () => ({ status: "ok" }));

  app.get("/readyz", route, async (_request, reply) => {
    const checks: Record<string, "ok" | "fail" | "not configured"> = {
      database: (await pingDatabase(options.database)) ? "ok" : "fail",
      queue: "not configured",
    };
    if (options.boss) {
      checks.queue = (await options.boss.isInstalled().catch(() => false)) ? "ok" : "fail";
    }
    const ready = Object.values(checks).every((check) => check !== "fail");
    return reply.code(ready ? 200 : 503).send({ status: ready ? "ready" : "not ready", checks });
  });
}
