import { cookieHeader, setCookies } from "./session.js";

export interface Page {
  status: number;
  headers: Headers;
  body: string;
  /** Where a redirect points, if it is one. */
  location: string | null;
}

/**
 * A browser without JavaScript for route tests: it keeps the cookies the server sets, follows no
 * redirect by itself, and posts forms url-encoded. (Fastify's inject is out of reach under Jest:
 * light-my-request require()s the ESM-only `cookie`.)
 */
export class Browser {
  readonly #cookies = new Map<string, string>();

  constructor(
    readonly baseUrl: string,
    cookie = "",
  ) {
    for (const pair of cookie.split("; ").filter(Boolean)) {
      const at = pair.indexOf("=");
      this.#cookies.set(pair.slice(0, at), decodeURIComponent(pair.slice(at + 1)));
    }
  }

  get(path: string, headers: Record<string, string> = {}): Promise<Page> {
    return this.#send(path, { method: "GET", headers });
  }

  /** Posts a form; repeated fields as arrays. */
  post(
    path: string,
    form: Record<string, string | string[]>,
    headers: Record<string, string> = {},
  ): Promise<Page> {
    const body = new URLSearchParams();
    for (const [key, value] of Object.entries(form)) {
      for (const item of Array.isArray(value) ? value : [value]) body.append(key, item);
    }
    return this.#send(path, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
      body: body.toString(),
    });
  }

  async #send(path: string, init: { method: string; headers: Record<string, string>; body?: string }) {
    const response = await fetch(`${this.baseUrl}${path}`, {
      ...init,
      redirect: "manual",
      headers: { ...init.headers, cookie: cookieHeader(Object.fromEntries(this.#cookies)) },
    });
    for (const [name, cookie] of Object.entries(setCookies(response))) {
      if (cookie.value === "" || cookie.attributes["max-age"] === "0") this.#cookies.delete(name);
      else this.#cookies.set(name, cookie.value);
    }
    return {
      status: response.status,
      headers: response.headers,
      body: await response.text(),
      location: response.headers.get("location"),
    };
  }
}
