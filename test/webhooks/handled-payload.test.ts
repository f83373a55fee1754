import { describe, expect, it } from "@jest/globals";
import {
  checkPayload,
  handledActions,
  payloadSchemas,
  type HandledEvent,
} from "../../src/webhooks/payloads.js";
import { allWebhookExamples, webhookExample } from "../support/webhook-examples.js";

// The part of a payload that intake stores for the webhook worker (PayloadCheck.handledJson): a
// handler gets its event's schema's output and nothing else (src/webhooks/app.ts), so the part is
// enough if the schema, given the part, gives what it gives for the whole payload. A field a
// handler starts to read has to be named in its schema first, and is then kept with no other change.

const HANDLED = Object.keys(payloadSchemas) as HandledEvent[];

/** Every real example of every handled event and action, with an installation; webhookExample's for the others. */
function handledExamples(): { event: HandledEvent; payload: Record<string, unknown> }[] {
  const real = allWebhookExamples().filter(
    ({ event, payload }) =>
      (HANDLED as string[]).includes(event) && handledActions(event as HandledEvent).includes(payload.action),
  ) as { event: HandledEvent; payload: Record<string, unknown> }[];
  const adapted = HANDLED.flatMap((event) =>
    handledActions(event)
      .filter((action) => !real.some((e) => e.event === event && e.payload.action === action))
      .map((action) => ({ event, payload: webhookExample(event, action) })),
  );
  return [...real, ...adapted].map(({ event, payload }) => ({
    event,
    payload: { ...payload, installation: payload.installation ?? { id: 1 } },
  }));
}

function handledJson(event: HandledEvent, payload: Record<string, unknown>): string {
  const check = checkPayload(event, payload);
  if (!check.handled || !check.ok) throw new Error(`${event}.${String(payload.action)} refused`);
  return check.handledJson;
}

describe("the handled part of a payload", () => {
  const examples = handledExamples();

  it(`gives each handler what the whole payload gives (${examples.length} payloads, every handled action)`, () => {
    expect(new Set(examples.map(({ event, payload }) => `${event}.${String(payload.action)}`)).size).toBe(
      HANDLED.reduce((sum, event) => sum + handledActions(event).length, 0),
    );
    for (const { event, payload } of examples) {
      const part: unknown = JSON.parse(handledJson(event, payload));
      expect(payloadSchemas[event].parse(part)).toEqual(payloadSchemas[event].parse(payload));
    }
  });

  it("keeps only what the schema names: a pull_request delivery's is a small part of it", () => {
    const payload = webhookExample("pull_request", "synchronize");
    const part = JSON.parse(handledJson("pull_request", payload)) as Record<string, any>;
    expect(Object.keys(part).sort()).toEqual(["action", "installation", "pull_request", "repository"]);
    expect(part.pull_request.head).toEqual({ ref: payload.pull_request.head.ref });
    expect(JSON.stringify(part).length).toBeLessThan(JSON.stringify(payload).length / 5);
  });
});
