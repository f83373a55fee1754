import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { checkPayload, handledActions, payloadSchemas, type HandledEvent } from "../src/webhooks/payloads.js";
import { APP_ID, QUICK_JOBS, sign, startTestApp, type TestApp } from "./support/app.js";
import { createTestDatabase, storedPayloadText, type TestDatabase } from "./support/database.js";
import { deliverInstallationCreated } from "./support/delivery-stream.js";
import { startFakeGitHub, type FakeGitHub } from "./support/fake-github/index.js";
import { useTestApp } from "./support/harness.js";
import { allWebhookExamples, webhookExample } from "./support/webhook-examples.js";
import * as schema from "../src/db/schema/index.js";
import { defaultInstallationSettings } from "../src/settings.js";
import { Browser } from "./support/browser.js";
import { signedIn } from "./support/session.js";

// The standing bad-input corpus. Whatever arrives, signed or not, well-formed or not, each input
// gets a clear 4xx or a recorded skip: never a 5xx, never a crash, never a partial row, never a
// failed job or delivery, and the process keeps serving. The webhook side goes through the real
// endpoint and the real webhook worker; the backfill side runs against the fake GitHub.

const t = useTestApp({ queues: ["processWebhook"] });

const HANDLED = Object.keys(payloadSchemas) as HandledEvent[];
const EXAMPLES = allWebhookExamples();
const withInstallation = (payload: Record<string, any>) => ({
  ...payload,
  installation: payload.installation ?? { id: 1, node_id: "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uMQ==" },
});
const isHandled = (event: string, payload: Record<string, any>) =>
  (HANDLED as string[]).includes(event) && handledActions(event as HandledEvent).includes(payload.action);

interface Outcome {
  status: number;
  rows: { status: string; last_error: string | null }[];
  id: string;
}

/**
 * Delivers, lets the webhook worker finish, and checks the invariants every input must keep: no
 * 5xx; at most one delivery row, which is processed or ignored (never queued or failed), and is
 * ignored with a reason when the answer was 400; the server still answers.
 */
async function deliverAndSettle(
  event: string,
  payload: unknown,
  options: Parameters<TestApp["deliver"]>[2] = {},
): Promise<Outcome> {
  const response = await t.app.deliver(event, payload, options);
  expect(response.status).toBeLessThan(500);
  await drainedSince(performance.now());
  const rows = await t.database.sql<{ status: string; last_error: string | null }[]>`
    select status, last_error from webhook_deliveries where id = ${response.id}`;
  expect(rows.length).toBeLessThanOrEqual(1);
  for (const row of rows) expect(["processed", "ignored"]).toContain(row.status);
  if (response.status === 400 && rows.length === 1) {
    expect(rows[0]).toMatchObject({ status: "ignored", last_error: expect.any(String) });
  }
  const failedJobs = await t.database.sql`select id from pgboss.job where state = 'failed'`;
  expect(failedJobs).toEqual([]);
  return { status: response.status, rows, id: response.id };
}

/** The drain deliveries in flight share: when it began, and its end. */
let draining: { began: number; done: Promise<void> } | undefined;

/**
 * Resolves once the webhook queue has been empty after `acknowledged`: the delivery's job, queued
 * before its acknowledgement, was run. Deliveries checked together share one drain that began after
 * they were all acknowledged, instead of each polling the queue.
 */
async function drainedSince(acknowledged: number): Promise<void> {
  for (;;) {
    if (draining && draining.began >= acknowledged) return draining.done;
    if (draining) {
      await draining.done.catch(() => {});
      continue;
    }
    const drain = { began: performance.now(), done: t.app.drain(["process-webhook"]) };
    draining = drain;
    void drain.done
      .finally(() => {
        if (draining === drain) draining = undefined;
      })
      .catch(() => {});
    return drain.done;
  }
}

/**
 * Deliveries in flight at once: four of the webhook worker's batches (WEBHOOK_BATCH_SIZE 16), so
 * each drain waits for a few full batches.
 */
const CHECKS_AT_ONCE = 64;

/**
 * Checks every case, a few at a time (the big tables would take minutes one by one), and reports
 * every case that failed by name.
 */
async function checkEach<T>(
  cases: (readonly [string, T])[],
  check: (item: T) => Promise<void>,
): Promise<void> {
  const queue = [...cases];
  const failures: string[] = [];
  const worker = async () => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      try {
        await check(next[1]);
      } catch (error) {
        failures.push(`${next[0]}: ${(error as Error).message}`);
      }
    }
  };
  await Promise.all(Array.from({ length: CHECKS_AT_ONCE }, worker));
  expect(failures).toEqual([]);
}

const named = (examples: typeof EXAMPLES) =>
  examples.map((example, i) => [`${example.event}.${example.payload.action ?? "-"} #${i}`, example] as const);

const nested = (depth: number) => "[".repeat(depth) + "]".repeat(depth);
const prJson = () => JSON.stringify(webhookExample("pull_request", "opened"));
const form = (json: string) => `payload=${encodeURIComponent(json)}`;
const FORM = { "content-type": "application/x-www-form-urlencoded" };

describe("requests", () => {
  it.each<
    [
      string,
      () => { event?: string; body: string | Buffer; options?: Parameters<TestApp["deliver"]>[2] },
      number,
    ]
  >([
    ["no signature", () => ({ body: prJson(), options: { signature: null } }), 401],
    [
      "a signature with another secret",
      () => ({ body: prJson(), options: { signature: sign(prJson(), "other") } }),
      401,
    ],
    ["a signature of another body", () => ({ body: prJson(), options: { signature: sign("{}") } }), 401],
    [
      "a SHA-1 signature only",
      () => ({ body: prJson(), options: { signature: null, headers: { "x-hub-signature": "sha1=00" } } }),
      401,
    ],
    ["a malformed signature", () => ({ body: prJson(), options: { signature: "sha256=xyz" } }), 401],
    [
      "a signature with a prefix",
      () => ({ body: prJson(), options: { signature: `x${sign(prJson())}` } }),
      401,
    ],
    ["an empty body", () => ({ body: "" }), 400],
    ["truncated JSON", () => ({ body: prJson().slice(0, 500) }), 400],
    ["text", () => ({ body: "hello world" }), 400],
    ["a JSON array", () => ({ body: "[]" }), 400],
    ["a JSON string", () => ({ body: '"pull_request"' }), 400],
    ["JSON null", () => ({ body: "null" }), 400],
    ["a UTF-8 byte order mark", () => ({ body: `\ufeff${prJson()}` }), 400],
    ["JSON nested 65 deep", () => ({ body: `{"action":"opened","x":${nested(64)}}` }), 400],
    ["JSON nested a million deep", () => ({ body: nested(1_000_000) }), 400],
    ["a form body without payload", () => ({ body: "other=1", options: { headers: FORM } }), 400],
    [
      "a form body whose payload is not JSON",
      () => ({ body: form("{nope"), options: { headers: FORM } }),
      400,
    ],
    ["a form body sent as JSON", () => ({ body: form(prJson()) }), 400],
    ["a form body", () => ({ body: form(prJson()), options: { headers: FORM } }), 202],
    [
      "JSON as text/plain",
      () => ({ body: prJson(), options: { headers: { "content-type": "text/plain" } } }),
      202,
    ],
    [
      "invalid UTF-8 bytes",
      () => ({
        body: Buffer.from([
          ...Buffer.from('{"action":"created","x":"'),
          0xc3,
          0x28,
          0xff,
          ...Buffer.from('"}'),
        ]),
        event: "star",
      }),
      202,
    ],
    ["duplicate keys", () => ({ body: '{"action":"created","action":"created","x":1}', event: "star" }), 202],
    [
      "a __proto__ key",
      () => ({ body: '{"action":"created","__proto__":{"polluted":true}}', event: "star" }),
      202,
    ],
    [
      "an event name with digits",
      () => ({
        body: JSON.stringify(webhookExample("projects_v2_item", "created")),
        event: "projects_v2_item",
      }),
      202,
    ],
    ["an upper-case event name", () => ({ body: prJson(), event: "Pull_Request" }), 400],
    ["a 1000-character event name", () => ({ body: prJson(), event: "a".repeat(1000) }), 400],
    ["a 12 KB delivery id", () => ({ body: prJson(), options: { id: "d".repeat(12_000) } }), 400],
    ["a delivery id with a percent sign", () => ({ body: prJson(), options: { id: "abc%0Adef" } }), 400],
    [
      "a handled event without action",
      () => ({ body: JSON.stringify({ ...JSON.parse(prJson()), action: undefined }) }),
      400,
    ],
    [
      "a handled event with a numeric action",
      () => ({ body: JSON.stringify({ ...JSON.parse(prJson()), action: 7 }) }),
      400,
    ],
  ])("%s", async (_name, build, status) => {
    const { event = "pull_request", body, options = {} } = build();
    const outcome = await deliverAndSettle(event, undefined, { body, ...options });
    expect(outcome.status).toBe(status);
    if (status !== 202 && status !== 400) expect(outcome.rows).toEqual([]);
  });

  it("a body over the limit gets 413 and leaves nothing", async () => {
    const body = Buffer.alloc(t.app.config.webhookBodyLimit + 1, 0x20);
    const outcome = await deliverAndSettle("pull_request", undefined, { body });
    expect(outcome).toMatchObject({ status: 413, rows: [] });
  });

  it("an unsigned body of 24 MiB is refused with 401 and leaves nothing", async () => {
    const outcome = await deliverAndSettle("pull_request", undefined, {
      body: Buffer.alloc(24 * 1024 * 1024, 0x20),
      signature: null,
    });
    expect(outcome).toMatchObject({ status: 401, rows: [] });
  });
});

describe("the settings UI", () => {
  // A personal account's installation: its owner administers it without asking GitHub.
  const OWNER = 7001;
  const INSTALLATION = 7101;
  const base = `/installations/${INSTALLATION}`;

  async function owner() {
    await t.database.db.insert(schema.installations).values({
      id: INSTALLATION,
      accountId: OWNER,
      accountLogin: "solo",
      accountType: "User",
    });
    const session = await signedIn(t.database, t.app.server, {
      userId: OWNER,
      installationIds: [INSTALLATION],
    });
    return { browser: new Browser(t.app.url, session.cookie), csrf: session.csrfToken };
  }

  it.each<[string, (csrf: string) => { path: string; form?: Record<string, string | string[]> }, string]>([
    [
      "a NUL in the repository search",
      () => ({ path: `${base}/repositories?q=a%00b` }),
      "q: That value holds",
    ],
    ["a NUL in the rows' search", () => ({ path: `${base}/repositories/rows?q=%00` }), "q: That value holds"],
    [
      "a NUL in a saved pattern",
      (csrf) => ({
        path: `${base}/settings`,
        form: { _csrf: csrf, timezone: "UTC", defaultSyncDepth: "30d", hotfixTitlePattern: "hot\u0000fix" },
      }),
      "That value holds invalid characters",
    ],
    [
      "a NUL in a previewed pattern",
      (csrf) => ({
        path: `${base}/settings/preview`,
        form: { _csrf: csrf, timezone: "UTC", defaultSyncDepth: "30d", revertTitlePattern: "\u0000" },
      }),
      "That value holds invalid characters",
    ],
    [
      "a time zone given as an offset",
      (csrf) => ({
        path: `${base}/settings`,
        form: { _csrf: csrf, timezone: "+01:00", defaultSyncDepth: "30d" },
      }),
      "Choose a time zone from the list",
    ],
    [
      "a NUL in the non-working dates",
      (csrf) => ({
        path: `${base}/settings`,
        form: { _csrf: csrf, timezone: "UTC", defaultSyncDepth: "30d", holidays: "2024-12-25\u0000" },
      }),
      "That value holds invalid characters",
    ],
    [
      "more working-day boxes than a week has days",
      (csrf) => ({
        path: `${base}/settings`,
        form: { _csrf: csrf, timezone: "UTC", workDays: ["1", "2", "3", "4", "5", "6", "7", "1"] },
      }),
      "At most 7 values.",
    ],
    [
      "a working day's start sent twice",
      (csrf) => ({
        path: `${base}/settings`,
        form: { _csrf: csrf, timezone: "UTC", workStart: ["09:00", "10:00"] },
      }),
      "Expected one text value.",
    ],
    [
      "returnTo sent twice",
      (csrf) => ({
        path: `${base}/repositories/track`,
        form: { _csrf: csrf, returnTo: [`${base}/repositories`, `${base}/repositories?page=2`] },
      }),
      "returnTo: Expected one text value.",
    ],
    [
      "a non-ASCII returnTo",
      (csrf) => ({
        path: `${base}/repositories/track`,
        form: { _csrf: csrf, returnTo: `${base}/repositories?q=é` },
      }),
      "returnTo: Expected a path of printable ASCII characters.",
    ],
    [
      "a non-ASCII returnTo on the match page",
      () => ({ path: `${base}/members/match?identity=email%3Aa%40b.example&returnTo=%2F%E2%9C%93` }),
      "returnTo: Expected a path of printable ASCII characters.",
    ],
    [
      "a page number that is not one",
      () => ({ path: `${base}/repositories?page=1e9` }),
      "page: Expected a page number.",
    ],
  ])("%s: a clear 400 that names the field, and nothing stored", async (_name, build, text) => {
    const { browser, csrf } = await owner();
    const request = build(csrf);
    const page = request.form
      ? await browser.post(request.path, request.form)
      : await browser.get(request.path);
    expect(page.status).toBe(400);
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    expect(page.body).toContain(text);
    const [stored] = await t.database.db.select().from(schema.installations);
    expect(stored!.settings).toEqual(defaultInstallationSettings);
    expect(await t.app.jobs("backfill")).toEqual([]);
  });
});

describe("every real example payload", () => {
  it(`under its own event name (${EXAMPLES.length} examples): processed, ignored, or refused without an installation`, async () => {
    await checkEach(named(EXAMPLES), async ({ event, payload }) => {
      const outcome = await deliverAndSettle(event, payload);
      if (isHandled(event, payload)) {
        // Examples from repository webhooks have no installation: not an App's delivery.
        expect(outcome.status).toBe(payload.installation ? 202 : 400);
        if (payload.installation) expect(outcome.rows).toEqual([{ status: "processed", last_error: null }]);
      } else {
        expect(outcome.rows).toEqual([{ status: "ignored", last_error: null }]);
        expect(outcome.status).toBe(202);
      }
    });
  }, 300_000);
});

describe("fields GitHub adds tomorrow", () => {
  // Every handled event and action: each real example of it, and for an action the collection has
  // no example of, the example webhookExample adapts. Each gets an installation if it lacks one.
  const handledExamples = [
    ...EXAMPLES.filter(({ event, payload }) => isHandled(event, payload)),
    ...HANDLED.flatMap((event) =>
      handledActions(event)
        .filter((action) => !EXAMPLES.some((e) => e.event === event && e.payload.action === action))
        .map((action) => ({ event, payload: webhookExample(event, action) })),
    ),
  ];
  const tomorrow = (payload: Record<string, any>) => ({
    ...withInstallation(payload),
    performed_via_github_app: { id: 1, slug: "another-app", name: "Another App" },
    [`new_field_${Math.random().toString(36).slice(2, 8)}`]: { nested: [1, "two", null] },
  });

  it(`every handled action, ${handledExamples.length} payloads with new top-level fields: accepted and processed`, async () => {
    expect(new Set(handledExamples.map(({ event, payload }) => `${event}.${payload.action}`)).size).toBe(
      HANDLED.reduce((sum, event) => sum + handledActions(event).length, 0),
    );
    await checkEach(named(handledExamples), async ({ event, payload }) => {
      const outcome = await deliverAndSettle(event, tomorrow(payload));
      expect(outcome.status).toBe(202);
      expect(outcome.rows).toEqual([{ status: "processed", last_error: null }]);
    });
  }, 300_000);

  it("a field that names another event's subject is refused, with the field named", () => {
    const pr = tomorrow(webhookExample("pull_request", "opened"));
    expect(checkPayload("pull_request", pr)).toMatchObject({ handled: true, ok: true });
    expect(checkPayload("pull_request", { ...pr, milestone: { id: 1, title: "v1" } })).toEqual({
      handled: true,
      ok: false,
      reason: "milestone: a field of another event",
    });
    // Except the subject its own actions carry: labeled and unlabeled name their label.
    const labeled: Record<string, unknown> = tomorrow(webhookExample("pull_request", "labeled"));
    expect(labeled.label).toBeDefined();
    expect(checkPayload("pull_request", labeled)).toMatchObject({ handled: true, ok: true });
  });
});

describe("every real example payload under every other handled event's name", () => {
  const replays = EXAMPLES.flatMap((example) =>
    HANDLED.filter((claimed) => claimed !== example.event).map((claimed) => ({ ...example, claimed })),
  );

  it("is never processable: checked for every pair", () => {
    const accepted = replays.filter(({ claimed, payload }) => {
      const check = checkPayload(claimed, withInstallation(payload));
      return check.handled && check.ok;
    });
    expect(accepted.map(({ event, payload, claimed }) => `${event}.${payload.action} as ${claimed}`)).toEqual(
      [],
    );
  });

  // Through the endpoint, the pairs whose action the claimed event handles (the others are ignored
  // before any schema is consulted, as the check above shows). One test, not one per pair: the
  // pairs share one empty queue, so a pair that queued a job fails every check after it too.
  const refusable = replays
    .filter(({ claimed, payload }) => handledActions(claimed).includes(payload.action))
    .map((replay) => [`${replay.event}.${replay.payload.action} as ${replay.claimed}`, replay] as const);

  it(`${refusable.length} pairs through the endpoint: each refused, and none queues anything`, async () => {
    await checkEach(refusable, async ({ payload, claimed }) => {
      const outcome = await deliverAndSettle(claimed, withInstallation(payload));
      expect(outcome.status).toBe(400);
      expect(outcome.rows).toEqual([{ status: "ignored", last_error: expect.any(String) }]);
      expect(await t.app.jobs("process-webhook")).toEqual([]);
    });
  }, 300_000);
});

/** Every string value (and, with `keys`, every key) of a JSON value rewritten by `change`. */
function rewriteStrings(value: unknown, change: (text: string, key: string) => string, key = ""): unknown {
  if (typeof value === "string") return change(value, key);
  if (Array.isArray(value)) return value.map((item) => rewriteStrings(item, change, key));
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([childKey, child]) => [childKey, rewriteStrings(child, change, childKey)]),
    );
  }
  return value;
}

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T/;
/** Strings GitHub sends from a fixed set: a U+FFFD in them is a different value, rightly refused. */
const ENUM_KEYS = new Set([
  "action",
  "state",
  "type",
  "repository_selection",
  "privacy",
  "role",
  // membership: "team" or "organization".
  "scope",
]);
/** Free text: where a lone surrogate is just a character. */
const isFreeText = (text: string, key: string) => !TIMESTAMP.test(text) && !ENUM_KEYS.has(key);

describe("U+0000 and lone surrogates in every string", () => {
  it(`U+0000 in every value, a lone surrogate in every free-text value (${EXAMPLES.length} examples): handled as the clean payload`, async () => {
    await checkEach(named(EXAMPLES), async ({ event, payload }) => {
      const clean = withInstallation(payload);
      const hostile = rewriteStrings(clean, (text, key) =>
        isFreeText(text, key)
          ? `\u0000${text}\ud800x\udc00\u0000`
          : `${text.slice(0, 1)}\u0000${text.slice(1)}`,
      );
      const outcome = await deliverAndSettle(event, hostile);
      expect(outcome.status).toBe(202);
      expect(outcome.rows).toEqual([
        { status: isHandled(event, clean) ? "processed" : "ignored", last_error: null },
      ]);
      expect(await storedPayloadText(t.database, outcome.id)).not.toMatch(/\\u0000|\\ud800|\\udc00/);
    });
  }, 300_000);

  it("a lone surrogate in every value of every handled event's examples, timestamps and enums included: refused or skipped, and recorded", async () => {
    const handled = EXAMPLES.filter(({ event }) => (HANDLED as string[]).includes(event));
    await checkEach(named(handled), async ({ event, payload }) => {
      const hostile = rewriteStrings(withInstallation(payload), (text) => `${text}\udfff`);
      const outcome = await deliverAndSettle(event, hostile);
      expect([202, 400]).toContain(outcome.status);
      expect(outcome.rows).toHaveLength(1);
    });
  }, 300_000);
});

/**
 * The paths a handled event's schema declares (what its handler reads), walked from the zod schema
 * itself: top-level fields it does not read are left out, lists are followed into their first item.
 */
function declaredPaths(schema: unknown, prefix: string[] = []): string[][] {
  const def = (schema as { _zod: { def: Record<string, any> } })._zod.def;
  switch (def.type) {
    case "optional":
    case "nullable":
      return declaredPaths(def.innerType, prefix);
    case "array":
      return declaredPaths(def.element, [...prefix, "0"]);
    case "object":
      return Object.entries(def.shape as Record<string, unknown>).flatMap(([key, child]) => {
        const inner = unwrap(child);
        // Unread fields, and the markers of other events (never: present, they are refused).
        if (inner.type === "unknown" || inner.type === "never") return [];
        return [[...prefix, key], ...declaredPaths(child, [...prefix, key])];
      });
    default:
      return [];
  }
}

function unwrap(schema: unknown): Record<string, any> {
  const def = (schema as { _zod: { def: Record<string, any> } })._zod.def;
  return def.type === "optional" || def.type === "nullable" ? unwrap(def.innerType) : def;
}

function valueAt(payload: unknown, path: string[]): unknown {
  return path.reduce<any>(
    (value, key) => (value === null || value === undefined ? undefined : value[key]),
    payload,
  );
}

function mutate(payload: Record<string, any>, path: string[], next: unknown) {
  const copy = structuredClone(payload);
  const parent = valueAt(copy, path.slice(0, -1)) as Record<string, unknown>;
  const last = path[path.length - 1]!;
  if (next === undefined) delete parent[last];
  else parent[last] = next;
  return copy;
}

/** What a field becomes: missing, null, another type, and for numbers the values no column holds. */
function mutations(value: unknown): [string, unknown][] {
  const common: [string, unknown][] = [
    ["missing", undefined],
    ["null", null],
    ["mistyped", typeof value === "string" ? 12345 : typeof value === "number" ? String(value) : "text"],
  ];
  if (typeof value !== "number") return common;
  return [
    ...common,
    ["beyond bigint", 2 ** 64],
    ["negative", -1],
    ["fractional", 1.5],
    ["beyond int4", 2 ** 31],
  ];
}

describe("missing and mistyped fields in otherwise real payloads", () => {
  // One real payload per event: the schema, not the action, decides what a field may be.
  const cases = HANDLED.flatMap((event) =>
    handledActions(event)
      .slice(0, 1)
      .flatMap((action) => {
        const payload = webhookExample(event, action);
        return declaredPaths(payloadSchemas[event])
          .filter((path) => valueAt(payload, path.slice(0, -1)) !== undefined)
          .flatMap((path) =>
            mutations(valueAt(payload, path)).map(([mutation, next]) => ({
              name: `${event}.${action} ${path.join(".")} ${mutation}`,
              event,
              payload: mutate(payload, path, next),
            })),
          );
      }),
  );

  it(`${cases.length} variants: each a 400 with the reason recorded, or processed, or skipped`, async () => {
    const statuses = new Set<number>();
    await checkEach(
      cases.map(({ name, event, payload }) => [name, { event, payload }] as const),
      async ({ event, payload }) => {
        statuses.add((await deliverAndSettle(event, payload)).status);
      },
    );
    expect([...statuses].sort()).toEqual([202, 400]);
  }, 300_000);
});

it("the server still serves after the corpus", async () => {
  expect((await fetch(`${t.app.url}/healthz`)).status).toBe(200);
  const good = await deliverAndSettle("pull_request", webhookExample("pull_request", "opened"));
  expect(good).toMatchObject({ status: 202, rows: [{ status: "processed", last_error: null }] });
});

describe("backfill: U+0000 and lone surrogates in every string GitHub returns", () => {
  // Its own database and app, with every worker, against the fake GitHub (as a GHES).
  let database: TestDatabase;
  let github: FakeGitHub;
  let app: TestApp;

  beforeAll(async () => {
    database = await createTestDatabase();
    github = await startFakeGitHub({ seed: 3 });
    // Nothing here looks at a debounced job: the weekly refresh may run at once.
    app = await startTestApp(database, {
      env: { GHE_HOST: github.host, GHE_PROTOCOL: "http", ...QUICK_JOBS },
    });
  });
  afterAll(async () => {
    await app?.stop();
    await github?.close();
    await database?.drop();
  });

  const hostile = (text: string) => `\u0000${text}\ud800 \udc00\u0000`;
  const cleaned = (text: string) => `${text}\ufffd \ufffd`;

  it("stores every pull request, review, commit, member and repository, cleaned, and completes", async () => {
    const world = github.world;
    world.setNow(new Date());
    const org = world.addOrg({ login: "hostile-org" });
    const installation = world.addInstallation({
      id: 9100,
      appId: Number(APP_ID),
      accountId: org.id,
      repositorySelection: "all",
    });
    const author = world.addUser({
      login: hostile("author"),
      name: hostile("Ann Author"),
      email: hostile("ann@x.test"),
    });
    const reviewer = world.addUser({ login: hostile("reviewer"), name: hostile("Rev"), email: null });
    world.addMember(org.login, author.id);
    world.addMember(org.login, reviewer.id);
    const repo = world.addRepo(installation.id, { name: hostile("repo"), defaultBranch: hostile("main") });
    const created = new Date(Date.now() - 2 * 86_400_000).toISOString();
    const pr = world.createPullRequest(repo.id, {
      authorId: author.id,
      title: hostile("Fix the parser"),
      body: hostile("It broke"),
      headRef: hostile("fix/parser"),
      baseRef: hostile("main"),
      createdAt: created,
      updatedAt: created,
    });
    world.addCommit(pr.id, {
      message: hostile("Fix it"),
      authorName: hostile("Ann"),
      authorEmail: hostile("ann@x.test"),
      authoredDate: created,
    });
    world.addReview(pr.id, { authorId: reviewer.id, state: "APPROVED", body: hostile("LGTM") });

    await deliverInstallationCreated(app, world, installation.id);
    await app.drain(undefined, 60_000);

    expect(await database.sql`select state from pgboss.job where state = 'failed'`).toEqual([]);
    expect(await database.sql`select status from webhook_deliveries`).toEqual([{ status: "processed" }]);
    expect(
      await database.sql`select full_name, default_branch, sync_status, last_error from repositories`,
    ).toEqual([
      {
        full_name: `hostile-org/${cleaned("repo")}`,
        default_branch: cleaned("main"),
        sync_status: "complete",
        last_error: null,
      },
    ]);
    expect(
      await database.sql`select title, body, head_ref, base_ref, author_login from pull_requests`,
    ).toEqual([
      {
        title: cleaned("Fix the parser"),
        body: cleaned("It broke"),
        head_ref: cleaned("fix/parser"),
        base_ref: cleaned("main"),
        author_login: cleaned("author"),
      },
    ]);
    expect(await database.sql`select message, author_name, author_email from commits`).toEqual([
      { message: cleaned("Fix it"), author_name: cleaned("Ann"), author_email: cleaned("ann@x.test") },
    ]);
    expect(await database.sql`select reviewer_login from reviews`).toEqual([
      { reviewer_login: cleaned("reviewer") },
    ]);
    expect(await database.sql`select login, name, email from members order by login`).toEqual([
      { login: cleaned("author"), name: cleaned("Ann Author"), email: cleaned("ann@x.test") },
      { login: cleaned("reviewer"), name: cleaned("Rev"), email: null },
    ]);
  }, 90_000);
});
