import { afterAll, afterEach, beforeAll, beforeEach, expect } from "@jest/globals";
import nock from "nock";
import { startTestApp, type TestApp, type TestAppOptions } from "./app.js";
import { createTestDatabase, retryOnDeadlock, type TestDatabase } from "./database.js";

export interface Harness {
  database: TestDatabase;
  app: TestApp;
}

/**
 * The lifecycle every app-level test file shares: its own database and a running app for the
 * file, empty tables and queues for each test, GitHub reachable only through nock, and every nock
 * scope used by the end of each test.
 */
export interface HarnessOptions {
  /**
   * Empty tables and queues before each test (the default). A file whose tests each build a world
   * of their own (new ids every time) and look only at it may keep one for the file: emptying
   * takes a few tens of milliseconds a test.
   */
  emptyEachTest?: boolean;
}

export function useTestApp(
  options: TestAppOptions | (() => TestAppOptions) = {},
  { emptyEachTest = true }: HarnessOptions = {},
): Harness {
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
    if (emptyEachTest) {
      await harness.database.truncate();
      await retryOnDeadlock(() => harness.database.sql`delete from pgboss.job`);
      await retryOnDeadlock(() => harness.database.sql`delete from pgboss.schedule`);
    }
    nock.cleanAll();
  });
  afterEach(() => expect(nock.pendingMocks()).toEqual([]));
  return harness;
}
