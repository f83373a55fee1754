import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { createTestDatabase, type TestDatabase } from "../support/database.js";

// postgres.js 3.4.9 writes to a socket that closed under it from a setImmediate callback: the
// TypeError escapes every caller and ends the process (porsager/postgres#1154, #1208). Under a
// stream of webhooks, a Postgres restart did exactly that to PR Pulse. patches/postgres+3.4.9.patch
// (applied by patch-package on install) settles those queries instead and lets the pool reconnect.
// The scenarios run in a child process, because the failure is the death of the process; once with
// the ESM copy of the driver (what the app imports) and once with the CommonJS copy (what
// require() loads).

const run = promisify(execFile);
let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database.drop();
});

describe.each(["esm", "cjs"])("postgres.js (%s) on a closed connection", (flavour) => {
  it("settles every query, never throws from a timer, and serves the next query", async () => {
    const { stdout } = await run(
      process.execPath,
      ["test/faults/closed-socket-scenarios.mjs", flavour, database.url],
      // Each scenario is a few round trips; a wedged connection would wait for its 3 s connect timeout.
      { timeout: 20_000 },
    ).catch((error: { stdout?: string; stderr?: string; code?: number }) => {
      throw new Error(`scenarios exited with ${error.code}: ${error.stdout} ${error.stderr}`);
    });
    const results = Object.assign(
      {},
      ...stdout
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line)),
    );

    expect(results).toEqual({
      // The ROLLBACK after the failed statement goes to the closed connection (the crash under load).
      transactionOnClosedConnection: {
        transaction: { error: "CONNECTION_CLOSED" },
        after: { ok: 1 },
      },
      // #1208: a reserved connection used again after its backend was terminated.
      reservedConnectionReused: {
        // The close arrives as a FIN or as a reset (ECONNRESET), depending on timing.
        first: { error: expect.stringMatching(/^(CONNECTION_CLOSED|ECONNRESET)$/) },
        second: { error: "CONNECTION_CLOSED" },
        after: { ok: 1 },
        later: { ok: 1 },
      },
      // The close lands while a flush is pending: the next connection must still start up.
      closedWithFlushPending: {
        interrupted: { error: "CONNECTION_CLOSED" },
        after: { ok: 2 },
      },
      // #1192, #1205, #1223: the types query's failure escaped as an unhandled rejection; then the
      // reserve that was waiting for the connection was lost and never settled.
      closedWhileFetchingTypes: {
        reserved: { ok: "released" },
        after: { ok: 4 },
      },
    });
  });
});
