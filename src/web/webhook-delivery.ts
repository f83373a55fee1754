import { isUtf8 } from "node:buffer";
import { createHmac, timingSafeEqual } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import { cleanJson } from "../text.js";

/**
 * The pure parts of webhook intake: what the headers must be before a body is read, the signature
 * over the exact bytes received, and the body turned into a clean JSON object.
 */

export interface DeliveryHeaders {
  event: string;
  deliveryId: string;
  /** The 32 bytes of the x-hub-signature-256 HMAC. */
  signature: Buffer;
}

export type Refusal = { ok: false; status: 400 | 401; reason: string };

/** sha256= and 64 hex digits: anything else cannot match, so it is refused before the body is read. */
const SIGNATURE = /^sha256=([0-9a-f]{64})$/i;
/** GitHub's event names: lower case, digits and underscores (projects_v2_item). */
const EVENT = /^[a-z][a-z0-9_]{0,63}$/;
/** GitHub's delivery GUIDs are UUIDs; redeliveries and proxies keep them. Bounded, and safe to log. */
const DELIVERY_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$/;

/** Checks the three headers every delivery carries; the values are never echoed back or logged. */
export function readDeliveryHeaders(
  headers: IncomingHttpHeaders,
): { ok: true; value: DeliveryHeaders } | Refusal {
  const signature = headers["x-hub-signature-256"];
  const event = headers["x-github-event"];
  const deliveryId = headers["x-github-delivery"];
  const hex = typeof signature === "string" ? SIGNATURE.exec(signature)?.[1] : undefined;
  if (hex === undefined) {
    return { ok: false, status: 401, reason: "Missing or malformed x-hub-signature-256 header" };
  }
  if (typeof event !== "string" || !EVENT.test(event)) {
    return { ok: false, status: 400, reason: "Missing or invalid x-github-event header" };
  }
  if (typeof deliveryId !== "string" || !DELIVERY_ID.test(deliveryId)) {
    return { ok: false, status: 400, reason: "Missing or invalid x-github-delivery header" };
  }
  return { ok: true, value: { event, deliveryId, signature: Buffer.from(hex, "hex") } };
}

/** HMAC-SHA256 of the exact bytes received, compared in constant time (both are 32 bytes). */
export function verifySignature(secret: string, body: Buffer, signature: Buffer): boolean {
  const expected = createHmac("sha256", secret).update(body).digest();
  return signature.length === expected.length && timingSafeEqual(signature, expected);
}

/**
 * Nesting deeper than this is refused: GitHub's payloads nest about ten levels, and every recursive
 * step after parsing (cleaning, schema checks, serialising for jsonb) stays far from the stack's end.
 */
export const MAX_JSON_DEPTH = 64;

const FORM = "application/x-www-form-urlencoded";

export type DecodedBody =
  | {
      ok: true;
      payload: Record<string, unknown>;
      /** The payload as JSON text to store: the received text unless cleaning changed something. */
      json: string;
      /**
       * `json` as UTF-8, to gzip where payloads are stored gzipped (`payloadFormat`): the body
       * itself when that is what it is (a JSON body, valid UTF-8, nothing to clean: nearly every
       * delivery). Gzip takes bytes; encoding the 23 KB text again cost 3–5 µs a delivery on the
       * event loop that acknowledges deliveries (checking the body is UTF-8: 0.4 µs).
       */
      bytes: Buffer;
    }
  | Refusal;

/** JSON text escaping U+0000 or a surrogate: the only text cleaning can change. */
const NEEDS_CLEANING = /\\u(0000|[dD][89a-fA-F])/;

/**
 * The delivery's payload, from a JSON body or a form body's `payload` field (GitHub's "form"
 * content type), with every string cleaned for Postgres: U+0000 dropped, lone surrogates replaced.
 * Invalid UTF-8 becomes U+FFFD; the signature was checked on the bytes before this.
 */
export function decodeDeliveryBody(body: Buffer, contentType: string | undefined): DecodedBody {
  if (body.length === 0) return refuse("Empty body");
  let json: string | null = body.toString("utf8");
  const form = contentType?.split(";")[0]?.trim().toLowerCase() === FORM;
  if (form) {
    json = new URLSearchParams(json).get("payload");
    if (json === null) return refuse("Form body without a payload field");
  }
  if (exceedsJsonDepth(json, MAX_JSON_DEPTH)) {
    return refuse(`Body is nested deeper than ${MAX_JSON_DEPTH} levels`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    return refuse("Body is not valid JSON");
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    return refuse("Body is not a JSON object");
  }
  // Most deliveries hold nothing to clean: they are stored as received, without a deep walk.
  if (!NEEDS_CLEANING.test(json)) {
    const bytes = !form && isUtf8(body) ? body : Buffer.from(json);
    return { ok: true, payload: parsed as Record<string, unknown>, json, bytes };
  }
  const payload = cleanJson(parsed) as Record<string, unknown>;
  const cleaned = JSON.stringify(payload);
  return { ok: true, payload, json: cleaned, bytes: Buffer.from(cleaned) };
}

/**
 * Whether JSON text nests objects and arrays deeper than `max`, counted without recursion (and
 * without parsing): brackets inside strings do not count. Malformed text is left to JSON.parse.
 * Strings, most of a payload's text, are skipped with indexOf rather than read a character at a
 * time: a fifth of the time on a 23 KB pull_request payload.
 */
export function exceedsJsonDepth(json: string, max: number): boolean {
  let depth = 0;
  for (let i = 0; i < json.length; i++) {
    const char = json.charCodeAt(i);
    if (char === QUOTE) {
      i = closingQuote(json, i);
    } else if (char === OPEN_BRACE || char === OPEN_BRACKET) {
      if (++depth > max) return true;
    } else if (char === CLOSE_BRACE || char === CLOSE_BRACKET) {
      depth--;
    }
  }
  return false;
}

/** Where the string opened at `open` ends (the end of the text if it does not). */
function closingQuote(json: string, open: number): number {
  let at = json.indexOf('"', open + 1);
  while (at !== -1 && isEscaped(json, at)) at = json.indexOf('"', at + 1);
  return at === -1 ? json.length : at;
}

/** An odd number of backslashes before it escapes a character. */
function isEscaped(json: string, at: number): boolean {
  let backslashes = 0;
  while (json.charCodeAt(at - 1 - backslashes) === BACKSLASH) backslashes++;
  return backslashes % 2 === 1;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

function refuse(reason: string): Refusal {
  return { ok: false, status: 400, reason };
}
