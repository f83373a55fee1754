import { afterAll, afterEach, beforeAll, beforeEach, expect } from "@jest/globals";
import nock from "nock";
import { startTestApp, type TestApp, type TestAppOptions } from "./app.js";
import { createTestDatabase, type TestDatabase } from "./database.js";

export interface Harness {
  database: TestDatabase;
  app: TestApp;
}

/**
 * The lifecycle every app-level test file shares: its own database and a running app for the
 * file, empty tables and queues for each test, GitHub reachable only through nock, and every nock
 * scope used by the end of each test.
 */
export function useTestApp(options: TestAppOptions | (() => TestAppOptions) = {}): Harness {
  const harness = {} as Harness;
  beforeAll(async () => {
    harness.database = await createTestDatabase();
    harness.app = await startTestApp(harness.database, typeof options === "function" ? options() : options);
    nock.disableNetConnect();
    nock.enableNetConnect("127.0.0.1");
  });
  afterAll(async () => {
    await harness.app?.stop();
    await harness.database?.drop();
    nock.enableNetConnect();
    // Jest reuses worker processes across files: take nock's interceptors out of this one.
    nock.restore();
  });
  beforeEach(async () => {
    await harness.database.truncate();
    await harness.database.sql`delete from pgboss.job`;
    await harness.database.sql`delete from pgboss.schedule`;
    nock.cleanAll();
  });
  afterEach(() => expect(nock.pendingMocks()).toEqual([]));
  return harness;
}
