import type { FastifyInstance, FastifyTypeProvider, RouteOptions } from "fastify";
import { z } from "zod";
import { RequestInputError } from "../errors.js";

/**
 * The front door's contract: every route states its input before its code, as zod schemas in its
 * route options (`schema: { params, querystring, body }`), and who may enter (`config.access`,
 * src/web/gate.ts). Input that does not fit is refused with a 400 before any handler runs, and a
 * handler gets the parsed values, typed (ZodTypeProvider). A route without either is refused when
 * it is registered, so the next page cannot forget them.
 *
 * Forms and query strings arrive as objects of strings (a repeated field as a list of strings,
 * from @fastify/formbody and Fastify's query parser); the helpers below are the one way to read
 * them.
 */

/** Route schemas are zod types; handlers see their parsed output. */
export interface ZodTypeProvider extends FastifyTypeProvider {
  validator: this["schema"] extends z.ZodType ? z.output<this["schema"]> : unknown;
  serializer: this["schema"] extends z.ZodType ? z.input<this["schema"]> : unknown;
}

/** Who may enter a route (src/web/gate.ts). */
export type Access =
  /** Anyone: the route checks its own credential, if any (webhook signature, bearer token, setup token). */
  | "public"
  /** Anyone, signed in or not; a signed-in user's change must carry the session's CSRF token. */
  | "user"
  /** The admin of the installation the path names (`:installationId`); resolved before the handler. */
  | "installation-admin"
  /** A read-API token (Authorization: Bearer) of the installation the path names; JSON answers. */
  | "api-token";

declare module "fastify" {
  interface FastifyContextConfig {
    access?: Access;
  }
}

/** Validates each request part with the route's zod schema: its output replaces the raw part. */
export function useZodContract(app: FastifyInstance): void {
  app.setValidatorCompiler(({ schema, httpPart, url }) => {
    if (!(schema instanceof z.ZodType)) throw new Error(`${url}: the ${httpPart} schema is not a zod type`);
    return (data) => {
      const parsed = schema.safeParse(data);
      if (parsed.success) return { value: parsed.data };
      return { error: new RequestInputError(httpPart ?? "input", parsed.error.issues.map(describeIssue)) };
    };
  });
}

function describeIssue(issue: z.core.$ZodIssue): { field: string; message: string } {
  return { field: issue.path.map(String).join("."), message: issue.message };
}

/**
 * Refuses, at registration, a route that does not declare its input (`schema`) or who may enter
 * (`config.access`). HEAD routes Fastify adds for a GET carry the GET's options.
 */
export function requireRouteContracts(app: FastifyInstance): void {
  app.addHook("onRoute", (route: RouteOptions) => {
    const name = `${route.method.toString()} ${route.url}`;
    if (!route.schema) throw new Error(`${name} declares no input schema (src/web/contract.ts)`);
    if (!route.config?.access) throw new Error(`${name} declares no access (config.access, src/web/gate.ts)`);
  });
}

const TEXT_MESSAGE = "Expected one text value.";

/**
 * One text value of a form or query field, at most `max` characters, text Postgres can hold (no
 * U+0000, no half of a surrogate pair). A field sent twice arrives as a list, and is refused.
 */
export function text(max: number, message = TEXT_MESSAGE) {
  return z
    .string({ error: message })
    .max(max, `At most ${max} characters.`)
    .refine(
      (value) => !value.includes("\u0000") && value.isWellFormed(),
      "That value holds invalid characters.",
    );
}

/** A field a browser may leave out: "" when it does. */
export function optionalText(max: number) {
  return text(max).optional().default("");
}

/** A page number of a paged list, 1 when left out. */
export const pageNumber = z
  .string({ error: "Expected one page number." })
  .regex(/^[1-9][0-9]{0,4}$/, "Expected a page number.")
  .transform(Number)
  .optional()
  .default(1);

/** A positive integer id, as a form or path writes it. */
export const id = z
  .string({ error: "Expected one id." })
  .regex(/^[1-9][0-9]{0,15}$/, "Expected a positive integer id.")
  .transform(Number)
  .refine(Number.isSafeInteger, "Expected a positive integer id.");

/** A checkbox list: none, one, or several values, at most `max`. */
export function list<T extends z.ZodType>(item: T, max: number) {
  return z.preprocess(
    (value) => (value === undefined ? [] : Array.isArray(value) ? value : [value]),
    z.array(item).max(max, `At most ${max} values.`),
  );
}

/** A checkbox: checked ("on", as browsers send it) or left out. */
export const checkbox = z
  .literal("on", { error: "Expected a checkbox." })
  .optional()
  .transform((value) => value === "on");

/** A "yes, really" button of a confirmation page. */
export const confirmed = z
  .literal("1", { error: "Expected confirm=1." })
  .optional()
  .transform((value) => value === "1");

/**
 * A path on this site to go back to after a form: printable ASCII (it goes into a Location
 * header, which holds nothing else), or "" for the page's default. Which paths a page accepts is
 * its own decision.
 */
export const returnTo = z
  .string({ error: TEXT_MESSAGE })
  .max(2000, "At most 2000 characters.")
  .regex(/^[\x21-\x7e]*$/, "Expected a path of printable ASCII characters.")
  .optional()
  .default("");

/** A form body: fields as declared, the CSRF token (checked by the gate before), nothing else kept. */
export function form<T extends z.ZodRawShape>(shape: T) {
  return z.preprocess((value) => value ?? {}, z.object({ _csrf: z.string().optional(), ...shape }));
}

/** A query string: parameters as declared; others are ignored. */
export function query<T extends z.ZodRawShape>(shape: T) {
  return z.preprocess((value) => value ?? {}, z.object(shape));
}

/** No query parameter is read (those sent are ignored). */
export const noQuery = query({});

/** The path of an installation's pages; the gate finds the installation and decides access. */
export const installationParams = z.object({ installationId: z.string().regex(/^[0-9]{1,18}$/) });
