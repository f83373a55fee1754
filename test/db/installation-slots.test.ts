import { afterAll, beforeAll, beforeEach, describe, expect, it } from "@jest/globals";
import { like, sql } from "drizzle-orm";
import pino from "pino";
import { createDatabase, type Database } from "../../src/db/client.js";
import {
  claimInstallationSlot,
  releaseInstallationSlot,
  renewInstallationSlot,
} from "../../src/db/queries/installation-slots.js";
import { appState } from "../../src/db/schema/index.js";
import { AttemptEndedError } from "../../src/errors.js";
import { withInstallationSlot } from "../../src/jobs/installation-slot.js";
import { testConfig } from "../support/app.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { waitFor } from "../support/wait.js";

// SYNC_CONCURRENCY_PER_INSTALLATION across every queue and every replica: leases in app_state.

let database: TestDatabase;
/** A second pool on the same database: another replica. */
let other: Database;

beforeAll(async () => {
  database = await createTestDatabase();
  other = createDatabase(database.url, { max: 2 });
});
afterAll(async () => {
  await other.close();
  await database.drop();
});
beforeEach(async () => {
  await database.db.delete(appState).where(like(appState.key, "github-slot:%"));
});

const INSTALLATION = 77;
const key = (slot: number) => `github-slot:${INSTALLATION}:${slot}`;
const heldSlots = () => database.db.select().from(appState).where(like(appState.key, "github-slot:%"));

/** A lease as a replica left it: held by `job` (attempt 0), last renewed `ageSeconds` ago. */
async function storeLease(slot: number, job: string, ageSeconds: number) {
  await database.db.insert(appState).values({
    key: key(slot),
    value: { job, attempt: 0 },
    updatedAt: sql`now() - make_interval(secs => ${ageSeconds})`,
  });
}

describe("claimInstallationSlot", () => {
  it.each([
    { case: "no lease", stored: [], slot: 0 },
    { case: "slot 0 held", stored: [[0, "job-b", 1]], slot: 1 },
    {
      case: "both held",
      stored: [
        [0, "job-b", 1],
        [1, "job-c", 1],
      ],
      slot: undefined,
    },
    // Its replica died: not renewed for longer than the lease.
    {
      case: "slot 0 expired",
      stored: [
        [0, "job-b", 3600],
        [1, "job-c", 1],
      ],
      slot: 0,
    },
    // pg-boss retries a job only once its earlier attempt is dead.
    {
      case: "slot 1 held by an earlier attempt",
      stored: [
        [0, "job-c", 1],
        [1, "job-a", 1],
      ],
      slot: 1,
    },
  ] as { case: string; stored: [number, string, number][]; slot: number | undefined }[])(
    "$case: job-a gets slot $slot",
    async ({ stored, slot }) => {
      for (const [n, job, age] of stored) await storeLease(n, job, age);
      const lease = await claimInstallationSlot(database.db, {
        installationId: INSTALLATION,
        slots: 2,
        holder: { job: "job-a", attempt: 1 },
        leaseSeconds: 30,
      });
      expect(lease?.key).toBe(slot === undefined ? undefined : key(slot));
    },
  );
});

describe("renewInstallationSlot and releaseInstallationSlot", () => {
  it("renew and release only the holder's own lease", async () => {
    const mine = { key: key(0), job: "job-a", attempt: 0 };
    const stale = { key: key(0), job: "job-a", attempt: 1 };
    const leases = () =>
      database.db
        .select()
        .from(appState)
        .where(like(appState.key, key(0)));
    await storeLease(0, "job-a", 20);
    expect(await renewInstallationSlot(database.db, stale)).toBe(false);
    expect(await renewInstallationSlot(database.db, mine)).toBe(true);
    await releaseInstallationSlot(database.db, stale);
    expect(await leases()).toHaveLength(1);
    await releaseInstallationSlot(database.db, mine);
    expect(await leases()).toEqual([]);
  });
});

describe("withInstallationSlot", () => {
  it("lets no more jobs than the slots run at once, across replicas", async () => {
    const deps = [database, other].map((db) => ({
      database: db,
      config: testConfig({ SYNC_CONCURRENCY_PER_INSTALLATION: "2" }),
    }));
    const log = pino({ level: "silent" });
    const inside = new Set<number>();
    const finishers = new Map<number, () => void>();
    let most = 0;
    const jobs = [0, 1, 2, 3, 4, 5].map((i) =>
      withInstallationSlot(deps[i % 2]!, INSTALLATION, { job: `job-${i}`, attempt: 0 }, log, async () => {
        inside.add(i);
        most = Math.max(most, inside.size);
        await new Promise<void>((resolve) => finishers.set(i, resolve));
        inside.delete(i);
      }),
    );
    // Let the jobs inside finish one at a time; each time one waiting job takes the freed slot.
    for (let finished = 0; finished < jobs.length; finished++) {
      await waitFor(() => inside.size === Math.min(2, jobs.length - finished), {
        what: `${Math.min(2, jobs.length - finished)} jobs holding a slot`,
      });
      finishers.get([...inside][0]!)!();
    }
    await Promise.all(jobs);
    expect(most).toBe(2);
  });

  it("stops waiting, without running, once pg-boss gives the attempt up", async () => {
    await storeLease(0, "job-b", 1);
    await storeLease(1, "job-c", 1);
    const attempt = new AbortController();
    let ran = false;
    const waiting = withInstallationSlot(
      { database, config: testConfig({ SYNC_CONCURRENCY_PER_INSTALLATION: "2" }) },
      INSTALLATION,
      { job: "job-a", attempt: 0 },
      pino({ level: "silent" }),
      async () => {
        ran = true;
      },
      attempt.signal,
    );
    attempt.abort(new Error("handler execution exceeded 300s"));
    await expect(waiting).rejects.toThrow("handler execution exceeded 300s");
    expect(ran).toBe(false);
  });

  it("gives the slot back the moment the attempt ends, without waiting for its work", async () => {
    const attempt = new AbortController();
    let started = false;
    const holding = withInstallationSlot(
      { database, config: testConfig({ SYNC_CONCURRENCY_PER_INSTALLATION: "1" }) },
      INSTALLATION,
      { job: "job-a", attempt: 0 },
      pino({ level: "silent" }),
      // Work stuck on something that never ends (a request with no deadline, say).
      () => {
        started = true;
        return new Promise<never>(() => {});
      },
      attempt.signal,
    );
    await waitFor(() => started, { what: "the work to start" });
    expect(await heldSlots()).toHaveLength(1);

    attempt.abort(new Error("handler execution exceeded 600s"));

    await expect(holding).rejects.toBeInstanceOf(AttemptEndedError);
    expect(await heldSlots()).toEqual([]);
  });
});
