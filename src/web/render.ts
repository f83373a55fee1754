import type { FastifyReply, FastifyRequest } from "fastify";
import { CSRF_FIELD, CSRF_HEADER } from "./session.js";

/** What the layout shows of the signed-in user (sign-out form, CSRF token for forms and htmx). */
export interface Viewer {
  login: string;
  csrfToken: string;
  csrfField: string;
  /** The hx-headers value that sends the token with every htmx request. */
  htmxHeaders: string;
}

export function viewerOf(request: FastifyRequest): Viewer | null {
  const session = request.session;
  if (!session) return null;
  return {
    login: session.login,
    csrfToken: session.csrfToken,
    csrfField: CSRF_FIELD,
    htmxHeaders: JSON.stringify({ [CSRF_HEADER]: session.csrfToken }),
  };
}

const FLASH_COOKIE = "pr_pulse_flash";

export interface Flash {
  kind: "ok" | "warn" | "error";
  text: string;
}

/** A message for the page the browser is redirected to ("3 repositories are now tracked."). */
export function setFlash(reply: FastifyReply, flash: Flash): FastifyReply {
  return reply.setCookie(FLASH_COOKIE, JSON.stringify(flash), {
    path: "/",
    httpOnly: true,
    sameSite: "lax",
    signed: true,
    // Read by the very next page; a minute is plenty for the redirect.
    maxAge: 60,
  });
}

function takeFlash(request: FastifyRequest, reply: FastifyReply): Flash | null {
  const cookie = request.cookies[FLASH_COOKIE];
  if (!cookie) return null;
  reply.clearCookie(FLASH_COOKIE, { path: "/" });
  const unsigned = request.unsignCookie(cookie);
  if (!unsigned.valid || !unsigned.value) return null;
  try {
    const flash = JSON.parse(unsigned.value) as Flash;
    return ["ok", "warn", "error"].includes(flash.kind) && typeof flash.text === "string" ? flash : null;
  } catch {
    return null;
  }
}

/** Renders a page: the template gets the view model and the viewer; nothing authenticated is cached. */
export function page(
  request: FastifyRequest,
  reply: FastifyReply,
  template: string,
  model: Record<string, unknown> & { title: string },
) {
  reply.header("cache-control", "no-store");
  return reply.view(template, { flash: takeFlash(request, reply), ...model, viewer: viewerOf(request) });
}

/** Renders a fragment for htmx (no layout, no flash). */
export function fragment(reply: FastifyReply, template: string, model: Record<string, unknown>) {
  reply.header("cache-control", "no-store");
  return reply.view(template, model);
}

/** The answer to a form posted without its session's CSRF token. */
export function formExpired(request: FastifyRequest, reply: FastifyReply) {
  return message(request, reply, 403, {
    title: "Refused",
    heading: "This form has expired",
    message: "Go back, reload the page and try again.",
  });
}

/** A short page with a heading and a sentence: refusals, expired links, not found. */
export function message(
  request: FastifyRequest,
  reply: FastifyReply,
  status: number,
  text: { title: string; heading: string; message: string },
) {
  return page(request, reply.code(status), "message", text);
}
