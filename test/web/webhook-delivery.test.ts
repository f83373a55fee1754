import { createHmac } from "node:crypto";
import { describe, expect, it } from "@jest/globals";
import {
  decodeDeliveryBody,
  exceedsJsonDepth,
  MAX_JSON_DEPTH,
  readDeliveryHeaders,
  verifySignature,
} from "../../src/web/webhook-delivery.js";

const SECRET = "secret";
const hmac = (body: Buffer | string) => createHmac("sha256", SECRET).update(body).digest("hex");
const nested = (depth: number) => "[".repeat(depth) + "]".repeat(depth);

describe("readDeliveryHeaders", () => {
  const good = {
    "x-hub-signature-256": `sha256=${"a".repeat(64)}`,
    "x-github-event": "pull_request",
    "x-github-delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958",
  };

  it.each([
    ["every header well-formed", {}, null],
    ["an event name with digits", { "x-github-event": "projects_v2_item" }, null],
    ["upper-case hex", { "x-hub-signature-256": `sha256=${"A".repeat(64)}` }, null],
    ["no signature", { "x-hub-signature-256": undefined }, 401],
    ["only the SHA-1 signature", { "x-hub-signature-256": undefined, "x-hub-signature": "sha1=abc" }, 401],
    ["a short signature", { "x-hub-signature-256": "sha256=abc" }, 401],
    ["a signature that is not hex", { "x-hub-signature-256": `sha256=${"z".repeat(64)}` }, 401],
    ["two signatures", { "x-hub-signature-256": `sha256=${"a".repeat(64)}, sha256=${"b".repeat(64)}` }, 401],
    ["no event", { "x-github-event": undefined }, 400],
    ["an upper-case event", { "x-github-event": "PullRequest" }, 400],
    ["an event with a space", { "x-github-event": "pull request" }, 400],
    ["a 65-character event", { "x-github-event": "a".repeat(65) }, 400],
    ["no delivery id", { "x-github-delivery": undefined }, 400],
    ["an empty delivery id", { "x-github-delivery": "" }, 400],
    ["a 12 KB delivery id", { "x-github-delivery": "a".repeat(12_000) }, 400],
    ["a delivery id with a newline", { "x-github-delivery": "abc\ndef" }, 400],
    ["a delivery id with JSON in it", { "x-github-delivery": '{"level":60}' }, 400],
  ])("%s", (_name, patch, status) => {
    const result = readDeliveryHeaders({ ...good, ...patch });
    if (status === null) expect(result.ok).toBe(true);
    else expect(result).toMatchObject({ ok: false, status });
  });
});

describe("verifySignature", () => {
  // A title holding bytes that are not UTF-8: decoding and re-encoding would change them.
  const raw = Buffer.concat([Buffer.from('{"title":"'), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('"}')]);
  const reencoded = Buffer.from(raw.toString("utf8"), "utf8");
  const check = (body: Buffer, signedOver: Buffer | string) =>
    verifySignature(SECRET, body, Buffer.from(hmac(signedOver), "hex"));

  it.each([
    ["the exact bytes received", raw, raw, true],
    ["the bytes re-encoded from their UTF-8 decoding", raw, reencoded, false],
    ["another body", raw, Buffer.from("{}"), false],
    ["an empty body", Buffer.alloc(0), Buffer.alloc(0), true],
  ])("a signature over %s: %s", (_name, body, signedOver, valid) => {
    expect(check(body, signedOver)).toBe(valid);
  });

  it("refuses a signature of the wrong length without throwing", () => {
    expect(verifySignature(SECRET, raw, Buffer.alloc(16))).toBe(false);
  });
});

describe("exceedsJsonDepth", () => {
  it.each([
    ['{"a":1}', 1, false],
    ['{"a":{"b":[1]}}', 2, true],
    ['{"a":{"b":[1]}}', 3, false],
    // Brackets inside strings, escaped quotes included, are text.
    ['{"a":"[[[[\\"[[[["}', 1, false],
    // An escaped backslash ends before the quote, which closes the string.
    ['{"a":"\\\\","b":[[1]]}', 2, true],
    ['{"a":"\\\\\\"[[","b":[1]}', 2, false],
    [nested(MAX_JSON_DEPTH), MAX_JSON_DEPTH, false],
    [nested(MAX_JSON_DEPTH + 1), MAX_JSON_DEPTH, true],
    [nested(100_000), MAX_JSON_DEPTH, true],
  ])("%#: depth limit %s", (json, max, exceeds) => {
    expect(exceedsJsonDepth(json, max)).toBe(exceeds);
  });
});

describe("decodeDeliveryBody", () => {
  const form = (json: string) => Buffer.from(`payload=${encodeURIComponent(json)}`);

  it.each([
    ["JSON", Buffer.from('{"action":"opened"}'), "application/json", { action: "opened" }],
    ["JSON with a charset", Buffer.from('{"a":1}'), "application/json; charset=utf-8", { a: 1 }],
    ["JSON without a content type", Buffer.from('{"a":1}'), undefined, { a: 1 }],
    ["a form body", form('{"action":"opened"}'), "application/x-www-form-urlencoded", { action: "opened" }],
    [
      "a form body with +",
      Buffer.from("payload=%7B%22a%22%3A%22x+y%22%7D"),
      "application/x-www-form-urlencoded",
      { a: "x y" },
    ],
    [
      "U+0000 and lone surrogates",
      Buffer.from('{"t":"a\\u0000b\\ud800c\\udc00"}'),
      "application/json",
      { t: "ab\ufffdc\ufffd" },
    ],
    ["U+0000 in a key", Buffer.from('{"a\\u0000":1}'), "application/json", { a: 1 }],
    [
      "a __proto__ key, kept as a key",
      Buffer.from('{"__proto__":{"x":1}}'),
      "application/json",
      JSON.parse('{"__proto__":{"x":1}}'),
    ],
    [
      "invalid UTF-8",
      Buffer.from([0x7b, 0x22, 0x74, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]),
      "application/json",
      { t: "\ufffd" },
    ],
    [
      "a number beyond any integer type",
      Buffer.from('{"id":123456789012345678901234567890}'),
      "application/json",
      { id: 1.2345678901234568e29 },
    ],
  ])("accepts %s", (_name, body, contentType, payload) => {
    const decoded = decodeDeliveryBody(body, contentType);
    expect(decoded).toMatchObject({ ok: true, payload });
    if (!decoded.ok) return;
    expect(Object.getPrototypeOf(decoded.payload)).toBe(Object.prototype);
    // What is stored says the same: the received text, or the cleaned payload serialised again.
    expect(JSON.parse(decoded.json)).toEqual(decoded.payload);
    expect(decoded.json).not.toMatch(/\\u0000/);
    // The bytes stored are that text's UTF-8, whether or not they are the body's own.
    expect(decoded.bytes.equals(Buffer.from(decoded.json))).toBe(true);
  });

  it("stores a plain JSON body's own bytes, and new bytes when the text stored differs", () => {
    const plain = Buffer.from('{"title":"café"}');
    const invalid = Buffer.from([0x7b, 0x22, 0x74, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]);
    const decode = (body: Buffer, type = "application/json") => {
      const decoded = decodeDeliveryBody(body, type);
      if (!decoded.ok) throw new Error(decoded.reason);
      return decoded.bytes;
    };
    expect(decode(plain)).toBe(plain);
    expect(decode(invalid)).not.toBe(invalid);
    expect(decode(invalid).toString()).toBe('{"t":"\ufffd"}');
    expect(decode(form('{"a":1}'), "application/x-www-form-urlencoded").toString()).toBe('{"a":1}');
    expect(decode(Buffer.from('{"t":"a\\u0000b"}')).toString()).toBe('{"t":"ab"}');
  });

  it.each([
    ["an empty body", Buffer.alloc(0), "application/json"],
    ["truncated JSON", Buffer.from('{"action":"ope'), "application/json"],
    ["text", Buffer.from("hello"), "application/json"],
    ["an array", Buffer.from("[1,2]"), "application/json"],
    ["a string", Buffer.from('"x"'), "application/json"],
    ["null", Buffer.from("null"), "application/json"],
    ["JSON nested 65 deep", Buffer.from(`{"a":${nested(64)}}`), "application/json"],
    ["JSON nested 100,000 deep", Buffer.from(nested(100_000)), "application/json"],
    ["a form body without payload", Buffer.from("other=1"), "application/x-www-form-urlencoded"],
    ["a form body whose payload is not JSON", form("{nope"), "application/x-www-form-urlencoded"],
    ["a form body sent as JSON", form('{"a":1}'), "application/json"],
  ])("refuses %s with 400", (_name, body, contentType) => {
    expect(decodeDeliveryBody(body, contentType)).toMatchObject({ ok: false, status: 400 });
  });
});
