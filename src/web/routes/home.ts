import type { FastifyInstance } from "fastify";
import type { Config } from "../../config.js";
import type { Database } from "../../db/client.js";
import { buildHomeViewModel } from "../view-models/home.js";

export interface HomeRouteOptions {
  config: Config;
  database: Database;
}

export async function homeRoutes(app: FastifyInstance, options: HomeRouteOptions) {
  app.get("/", async (_request, reply) => {
    const installUrl = `${options.config.github.webUrl}/apps`;
    return reply.view("home", await buildHomeViewModel(options.database.db, installUrl));
  });
}
