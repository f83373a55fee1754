/**
 * Fault injection, mutable at runtime, deterministic from the server's seed: the same sequence of
 * requests under the same settings fails at the same places.
 */
import { STATUS_CODES } from "node:http";
import { Rng, mixSeed } from "./seed.js";

export interface FaultSettings {
  /** Share of requests answered 502 with GitHub's HTML error page. */
  serverErrorRate?: number;
  /** Share of requests answered 504. */
  gatewayTimeoutRate?: number;
  /** Share of requests answered 403 "secondary rate limit" with retry-after. */
  secondaryLimitRate?: number;
  /** Fail the next `count` requests (whose path or GraphQL query contains `match`) with `status`. */
  failNext?: { count: number; status: number; match?: string };
  /** With maxNodesBeforeTimeout: GraphQL answers bigger than that wait this long per node, then 502. */
  timeoutPerNodeMs?: number;
  maxNodesBeforeTimeout?: number;
  /** Share of requests accepted and never answered: no status, no headers, until the client leaves. */
  hangRate?: number;
  /** Share of requests answered with status, headers and half the body, then nothing more. */
  stallBodyRate?: number;
  /** Leave the next `count` requests whose path contains `match` unanswered (like hangRate). */
  hangNext?: { count: number; match: string };
}

/** How a request that hangs stops: before its answer starts, or halfway through its body. */
export type Hang = "no-answer" | "stalled-body";

export interface FaultResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** GitHub gives up on a GraphQL query after about ten seconds. */
const GITHUB_QUERY_TIMEOUT_MS = 10_000;
const TOKEN_EXCHANGE_PATH = /\/app\/installations\/\d+\/access_tokens$/;

export class Faults {
  /** The retry-after (seconds) sent with secondary rate limits. */
  retryAfterSeconds = 1;
  /** How many failures were injected, so a test can tell its faults really happened. */
  injected = 0;
  /** Requests that hung, of either kind (counted in `injected` too). */
  hangs = 0;
  /** Hanging requests whose client has not given up yet. */
  hanging = 0;
  #settings: FaultSettings = {};
  readonly #rng: Rng;

  constructor(seed: number) {
    // A stream of its own, so turning faults on does not change the generated world.
    this.#rng = new Rng(mixSeed(seed, 0xfa017));
  }

  get settings(): Readonly<FaultSettings> {
    return this.#settings;
  }

  /** Merges into the current settings; pass `undefined` for a key to turn it off. */
  set(settings: FaultSettings): void {
    this.#settings = { ...this.#settings, ...settings };
  }

  clear(): void {
    this.#settings = {};
    this.retryAfterSeconds = 1;
  }

  /** Decides, before a request is handled, whether it fails; `text` is the GraphQL query if any. */
  pick(path: string, text = ""): FaultResponse | null {
    const fault = this.#pick(path, text);
    if (fault) this.injected++;
    return fault;
  }

  #pick(path: string, text: string): FaultResponse | null {
    const s = this.#settings;
    const failNext = s.failNext;
    if (failNext !== undefined && failNext.count > 0) {
      const matches =
        failNext.match === undefined
          ? !TOKEN_EXCHANGE_PATH.test(path)
          : path.includes(failNext.match) || text.includes(failNext.match);
      if (matches) {
        failNext.count--;
        if (failNext.count <= 0) this.#settings = { ...s, failNext: undefined };
        return failure(failNext.status, this.retryAfterSeconds);
      }
    }
    // Token exchange stays reliable so that fault tests exercise the API calls, not auth.
    if (TOKEN_EXCHANGE_PATH.test(path)) return null;
    if (this.#roll(s.secondaryLimitRate)) return failure(403, this.retryAfterSeconds);
    if (this.#roll(s.serverErrorRate)) return failure(502, this.retryAfterSeconds);
    if (this.#roll(s.gatewayTimeoutRate)) return failure(504, this.retryAfterSeconds);
    return null;
  }

  /**
   * Decides, after pick() let a request through, whether it hangs instead of being answered.
   * Token exchange never hangs, so that these faults exercise the API calls.
   */
  hang(path: string): Hang | null {
    if (TOKEN_EXCHANGE_PATH.test(path)) return null;
    const s = this.#settings;
    const next = s.hangNext !== undefined && s.hangNext.count > 0 && path.includes(s.hangNext.match);
    if (next) s.hangNext!.count--;
    const hang: Hang | null =
      next || this.#roll(s.hangRate) ? "no-answer" : this.#roll(s.stallBodyRate) ? "stalled-body" : null;
    if (hang) {
      this.injected++;
      this.hangs++;
    }
    return hang;
  }

  /** After a GraphQL query ran: whether its answer is too big and GitHub would have timed out. */
  timeoutFor(nodes: number): { delayMs: number; response: FaultResponse } | null {
    const { timeoutPerNodeMs, maxNodesBeforeTimeout } = this.#settings;
    if (maxNodesBeforeTimeout === undefined || nodes <= maxNodesBeforeTimeout) return null;
    const delayMs = Math.min(GITHUB_QUERY_TIMEOUT_MS, (timeoutPerNodeMs ?? 0) * nodes);
    return { delayMs, response: queryTimeout() };
  }

  #roll(rate: number | undefined): boolean {
    return rate !== undefined && rate > 0 && this.#rng.next() < rate;
  }
}

function requestId(): string {
  return Math.floor(Math.random() * 0xffffffff)
    .toString(16)
    .toUpperCase()
    .padStart(8, "0");
}

function htmlPage(status: number, text: string): FaultResponse {
  return {
    status,
    headers: { "content-type": "text/html; charset=utf-8" },
    body:
      `<!DOCTYPE html>\n<html>\n  <head><title>Unicorn! &middot; GitHub</title></head>\n` +
      `  <body>\n    <h1>${status} ${STATUS_CODES[status] ?? ""}</h1>\n    <p>${text}</p>\n  </body>\n</html>\n`,
  };
}

function json(status: number, body: object, headers: Record<string, string> = {}): FaultResponse {
  return {
    status,
    headers: { "content-type": "application/json; charset=utf-8", ...headers },
    body: JSON.stringify(body),
  };
}

export function failure(status: number, retryAfterSeconds: number): FaultResponse {
  switch (status) {
    case 502:
      return htmlPage(502, "No server is currently available to service your request.");
    case 504:
      return htmlPage(504, "We couldn't respond to your request in time. Sorry about that.");
    case 403:
      return json(
        403,
        {
          message:
            "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. " +
            `If you reach out to GitHub Support for help, please include the request ID ${requestId()}.`,
          documentation_url:
            "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits",
        },
        { "retry-after": String(retryAfterSeconds) },
      );
    case 401:
      return json(401, { message: "Bad credentials", documentation_url: "https://docs.github.com/rest" });
    case 404:
      return json(404, { message: "Not Found", documentation_url: "https://docs.github.com/rest" });
    default:
      return json(status, { message: STATUS_CODES[status] ?? "Error" });
  }
}

/** What github.com answers when a GraphQL query runs out of time. */
export function queryTimeout(): FaultResponse {
  return json(502, {
    data: null,
    errors: [
      {
        message:
          "Something went wrong while executing your query. This may be the result of a timeout, or it could " +
          `be a GitHub bug. Please include \`${requestId()}\` when reporting this issue.`,
      },
    ],
  });
}
