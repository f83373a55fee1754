import { describe, expect, it } from "@jest/globals";
import nock from "nock";
import { loadConfig } from "../../src/config.js";
import { describeError } from "../../src/errors.js";
import { redactUrl, serializeError } from "../../src/logger.js";
import { WEBHOOK_PATH } from "../../src/server.js";
import { startTestApp } from "../support/app.js";
import { GITHUB_API, mockInstallationToken } from "../support/github-nock.js";
import { useTestApp } from "../support/harness.js";
import { captureLog } from "../support/log-capture.js";
import { waitFor } from "../support/wait.js";
import { webhookExample } from "../support/webhook-examples.js";

// What reaches the logs and the stored error texts, read back as a grep of the logs would: the
// production logger (src/logger.ts) writes to a buffer, the app runs as production wires it.

const captured = captureLog();
const t = useTestApp({ log: captured.log, queues: ["processWebhook", "refreshPullRequest"] });

/** What the logs said from now on. */
function logsFromNow() {
  const start = captured.text().length;
  return {
    text: () => captured.text().slice(start),
    lines: () =>
      captured
        .text()
        .slice(start)
        .split("\n")
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, any>),
  };
}

const get = (path: string, headers: Record<string, string> = {}) =>
  fetch(`${t.app.url}${path}`, { headers, redirect: "manual" });

/** Makes every insert into `table` fail, as a broken database would; undone by the returned function. */
async function sabotage(table: string): Promise<() => Promise<void>> {
  await t.database.sql.unsafe(`
    create or replace function pr_pulse_test_sabotage() returns trigger language plpgsql as $$
    begin raise exception 'sabotaged by the test'; end $$;
    create trigger pr_pulse_test_sabotage before insert on ${table}
      for each row execute function pr_pulse_test_sabotage();`);
  return async () => {
    await t.database.sql.unsafe(`drop trigger pr_pulse_test_sabotage on ${table}`);
  };
}

describe("request logs", () => {
  it("carry no OAuth or manifest code, state or setup token", async () => {
    const logs = logsFromNow();
    await get("/login/callback?code=CODE-MARKER-1&state=STATE-MARKER-1");
    await get("/setup/callback?code=CODE-MARKER-2&state=STATE-MARKER-2");
    await get("/?token=TOKEN-MARKER&Code=CODE-MARKER-3");
    expect(logs.text()).not.toMatch(/MARKER/);
    expect(
      logs
        .lines()
        .filter((line) => line.msg === "incoming request")
        .map((line) => line.req.url),
    ).toEqual([
      "/login/callback?code=[redacted]&state=[redacted]",
      "/setup/callback?code=[redacted]&state=[redacted]",
      "/?token=[redacted]&Code=[redacted]",
    ]);
  });

  it.each(["pretty", "json"])(
    "carry no code, state or setup token at debug in the %s format either",
    async (format) => {
      const debug = captureLog("debug");
      const app = await startTestApp(t.database, {
        env: { LOG_FORMAT: format, LOG_LEVEL: "debug" },
        log: debug.log,
        queues: [],
      });
      try {
        await fetch(`${app.url}/login/callback?code=CODE-MARKER-4&state=STATE-MARKER-4`);
        await fetch(`${app.url}/setup/callback?code=CODE-MARKER-5&state=STATE-MARKER-5`);
        await fetch(`${app.url}/?token=TOKEN-MARKER-6`);
      } finally {
        await app.stop();
      }
      expect(debug.text()).toContain("/login/callback?code=[redacted]&state=[redacted]");
      expect(debug.text()).not.toMatch(/MARKER/);
    },
  );

  it("use the server's request ids: a client chooses neither its id nor its address", async () => {
    const logs = logsFromNow();
    await get("/healthz", { "x-github-delivery": "CLIENT-CHOSEN-ID", "x-forwarded-for": "203.0.113.9" });
    const incoming = logs.lines().find((line) => line.msg === "incoming request")!;
    expect(incoming.reqId).toMatch(/^req-/);
    expect(incoming.req.remoteAddress).toBe("127.0.0.1");
    expect(logs.text()).not.toContain("CLIENT-CHOSEN-ID");
    expect(logs.text()).not.toContain("203.0.113.9");
  });

  it("carry a delivery id only on the webhook's lines, and only a valid one", async () => {
    const logs = logsFromNow();
    const huge = await t.app.deliver("pull_request", webhookExample("pull_request", "opened"), {
      id: "D".repeat(12_000),
    });
    expect(huge.status).toBe(400);
    expect(logs.text()).not.toContain("D".repeat(100));

    const good = await t.app.deliver("star", webhookExample("star", "created"), { id: "delivery-ok-1" });
    expect(good.status).toBe(202);
    const received = logs.lines().find((line) => line.msg === "webhook received")!;
    expect(received).toMatchObject({ deliveryId: "delivery-ok-1", event: "star", handled: false });
    expect(
      logs
        .lines()
        .filter((line) => line.deliveryId === "delivery-ok-1")
        .every((line) => line.reqId),
    ).toBe(true);
  });
});

describe("webhook refusals", () => {
  it("log one warn line for a failed signature check, without the header", async () => {
    const logs = logsFromNow();
    const signature = `sha256=${"c0ffee".repeat(10)}abcd`;
    const response = await t.app.deliver("pull_request", webhookExample("pull_request", "opened"), {
      signature,
    });
    expect(response.status).toBe(401);
    const warnings = logs.lines().filter((line) => line.level >= 40);
    expect(warnings).toEqual([expect.objectContaining({ msg: "webhook signature does not match" })]);
    expect(logs.text()).not.toContain("c0ffee");
  });
});

describe("database errors", () => {
  it("are logged without the query's parameters (at intake)", async () => {
    const restore = await sabotage("webhook_deliveries");
    try {
      const logs = logsFromNow();
      const payload = webhookExample("pull_request", "opened");
      payload.pull_request.title = "PAYLOAD-MARKER in the title";
      payload.sender.email = "someone@example.com";
      const response = await t.app.deliver("pull_request", payload);
      expect(response.status).toBe(500);
      const errors = logs.lines().filter((line) => line.level >= 50);
      expect(errors).toHaveLength(1);
      expect(errors[0]!.err.message).toContain('Failed query: insert into "webhook_deliveries"');
      expect(errors[0]!.err.cause.message).toBe("sabotaged by the test");
      expect(logs.text()).not.toContain("PAYLOAD-MARKER");
      expect(logs.text()).not.toContain("someone@example.com");
      expect(logs.text()).not.toContain("params");
    } finally {
      await restore();
    }
  });

  it("reach neither a job's stored output nor last_error with the query's parameters", async () => {
    const restore = await sabotage("pull_requests");
    try {
      const logs = logsFromNow();
      const payload = webhookExample("pull_request", "opened");
      payload.pull_request.title = "PAYLOAD-MARKER in the title";
      const response = await t.app.deliver("pull_request", payload);
      expect(response.status).toBe(202);
      const [failed] = await waitFor(
        async () => {
          const rows = await t.database.sql<{ last_error: string }[]>`
            select last_error from webhook_deliveries where id = ${response.id} and last_error is not null`;
          return rows.length > 0 ? rows : undefined;
        },
        // Queued again for its retry: `failed` comes only after the last one.
        { what: "the delivery's first attempt to fail" },
      );
      expect(failed!.last_error).toMatch(
        /^sabotaged by the test \(failed query: insert into "pull_requests"/,
      );
      const [job] = await waitFor(
        async () => {
          const rows = await t.database.sql<{ output: unknown }[]>`
            select output from pgboss.job where name = 'process-webhook' and output is not null`;
          return rows.length > 0 ? rows : undefined;
        },
        { what: "the job's failure to be recorded" },
      );
      expect(JSON.stringify(job!.output)).toContain("sabotaged by the test");
      for (const text of [failed!.last_error, JSON.stringify(job!.output), logs.text()]) {
        expect(text).not.toContain("PAYLOAD-MARKER");
        expect(text).not.toContain("params");
      }
    } finally {
      await restore();
    }
  });

  it("holding U+0000 are still recorded by pg-boss", async () => {
    const payload = webhookExample("pull_request", "opened");
    await t.database.sql`
      insert into installations (id, account_id, account_login, account_type)
      values (${payload.installation.id}, 1, 'acme', 'Organization')`;
    mockInstallationToken(payload.installation.id);
    nock(GITHUB_API)
      .post("/graphql")
      .reply(200, { data: null, errors: [{ type: "INTERNAL", message: "broken\u0000answer" }] });
    const response = await t.app.deliver("pull_request", payload);
    expect(response.status).toBe(202);
    const [job] = await waitFor(
      async () => {
        const rows = await t.database.sql<{ state: string; output: { message: string } }[]>`
          select state, output from pgboss.job where name = 'refresh-pull-request' and output is not null`;
        return rows.length > 0 ? rows : undefined;
      },
      { what: "the refresh job's failure to be recorded" },
    );
    expect(job!.state).toBe("retry");
    expect(job!.output.message).toMatch(/^GraphQL error: brokenanswer/);
    expect(JSON.stringify(job!.output)).not.toContain("\\u0000");
  });
});

describe("error texts", () => {
  class DrizzleQueryError extends Error {
    constructor(
      readonly query: string,
      readonly params: unknown[],
      cause?: unknown,
    ) {
      super(`Failed query: ${query}\nparams: ${params.join(",")}`, { cause });
    }
  }
  const failedQuery = () =>
    new DrizzleQueryError(
      'insert into "members" values ($1, $2)',
      ["octo\u0000cat", "secret@example.com"],
      new Error('invalid byte sequence for encoding "UTF8": 0x00'),
    );

  it.each([
    ["a plain error", new Error("boom"), "boom"],
    ["a cause chain", new Error("outer", { cause: new Error("inner") }), "outer: inner"],
    ["U+0000 and a lone surrogate", new Error("bad\u0000text\ud800"), "badtext\ufffd"],
    [
      "a failed query: the reason first, no parameters",
      failedQuery(),
      'invalid byte sequence for encoding "UTF8": 0x00 (failed query: insert into "members" values ($1, $2))',
    ],
    [
      "a failed query wrapped in an app error",
      new Error("sync failed", { cause: failedQuery() }),
      'sync failed: invalid byte sequence for encoding "UTF8": 0x00 (failed query: insert into "members" values ($1, $2))',
    ],
    ["not an error", "just text", "just text"],
  ])("describeError: %s", (_name, error, text) => {
    expect(describeError(error)).toBe(text);
  });

  it("describeError bounds the text without leaving half a surrogate pair", () => {
    const text = describeError(new Error(`${"x".repeat(999)}😀tail`));
    expect(text).toHaveLength(1000);
    expect(text.isWellFormed()).toBe(true);
  });

  it("the err serializer drops parameters from the message, the stack, the fields and the causes", () => {
    const serialized = JSON.stringify(
      serializeError(new AggregateError([failedQuery()], "many", { cause: failedQuery() })),
    );
    expect(serialized).toContain('Failed query: insert into \\"members\\"');
    expect(serialized).not.toContain("secret@example.com");
    expect(serialized).not.toContain("octo");
    expect(serialized).not.toContain("\\u0000");
  });

  it.each([
    ["/", "/"],
    ["/login/callback?code=abc&state=def", "/login/callback?code=[redacted]&state=[redacted]"],
    ["/?token=abc&installation=5", "/?token=[redacted]&installation=5"],
    ["/x?c%6Fde=abc", "/x?c%6Fde=[redacted]"],
    ["/x?code", "/x?code=[redacted]"],
    ["/x?STATE=1&state=2", "/x?STATE=[redacted]&state=[redacted]"],
  ])("redactUrl(%s)", (url, logged) => {
    expect(redactUrl(url)).toBe(logged);
  });
});

describe("TRUST_PROXY", () => {
  it.each([
    [undefined, false],
    ["", false],
    ["false", false],
    ["true", true],
    ["127.0.0.1", "127.0.0.1"],
    ["10.0.0.0/8, loopback", "10.0.0.0/8,loopback"],
    ["::1,fd00::/8", "::1,fd00::/8"],
  ])("%s is trusted as %s", (value, trusted) => {
    expect(loadConfig(value === undefined ? {} : { TRUST_PROXY: value }).trustProxy).toBe(trusted);
  });

  it.each(["yes", "2", "10.0.0.0/33", "example.com", "10.0.0.1/8/1"])(
    "refuses %s, naming the variable",
    (value) => {
      expect(() => loadConfig({ TRUST_PROXY: value })).toThrow(/TRUST_PROXY: must be/);
    },
  );

  it.each([
    ["true", 1],
    ["loopback", 0],
    ["false", 0],
  ])("TRUST_PROXY=%s: a warning at start that it trusts everyone (%i)", async (value, warnings) => {
    const started = captureLog();
    const app = await startTestApp(t.database, { env: { TRUST_PROXY: value }, log: started.log, queues: [] });
    await app.stop();
    const warned = started.lines.filter((line) => line.level === 40 && /TRUST_PROXY/.test(line.msg));
    expect(warned).toHaveLength(warnings);
  });

  it("makes a server believe X-Forwarded-For from the proxies it names, and only those", async () => {
    const behindProxy = captureLog();
    const app = await startTestApp(t.database, {
      env: { TRUST_PROXY: "loopback" },
      log: behindProxy.log,
      queues: [],
    });
    try {
      await fetch(`${app.url}/healthz`, { headers: { "x-forwarded-for": "198.51.100.7" } });
    } finally {
      await app.stop();
    }
    const incoming = behindProxy.lines.find((line) => line.msg === "incoming request")!;
    expect(incoming.req.remoteAddress).toBe("198.51.100.7");
  });
});

it("the webhook route answers a request to an unknown path with a quiet 404", async () => {
  const logs = logsFromNow();
  const response = await fetch(`${t.app.url}${WEBHOOK_PATH}/x?code=CODE-MARKER-9`, { method: "POST" });
  expect(response.status).toBe(404);
  expect(logs.text()).not.toContain("CODE-MARKER-9");
});
