import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const examples = require("@octokit/webhooks-examples/api.github.com/index.json") as {
  name: string;
  examples: Record<string, unknown>[];
}[];

/**
 * A real GitHub payload from @octokit/webhooks-examples, deep-copied so tests can adjust it. For an
 * action the collection has no example of, the example of the event with the fewest top-level
 * fields is used with that action (one without another action's extra field, such as `assignee`).
 */
export function webhookExample<T = Record<string, any>>(
  event: string,
  action: string,
  options: { withInstallation?: boolean } = {},
): T {
  const group = examples.find((entry) => entry.name === event);
  if (!group) throw new Error(`no examples for ${event}`);
  const matching = group.examples.filter((example) => example.action === action);
  const candidates =
    matching.length > 0
      ? matching
      : [...group.examples].sort((a, b) => Object.keys(a).length - Object.keys(b).length);
  const preferred =
    options.withInstallation === false
      ? candidates[0]
      : (candidates.find((example) => example.installation) ?? candidates[0]);
  const copy = structuredClone(preferred) as Record<string, unknown>;
  copy.action = action;
  if (options.withInstallation !== false && !copy.installation)
    copy.installation = { id: 1, node_id: "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uMQ==" };
  return copy as T;
}

/** Every example payload of every event in the collection, deep-copied, with its event name. */
export function allWebhookExamples(): { event: string; payload: Record<string, any> }[] {
  return examples.flatMap((group) =>
    group.examples.map((example) => ({
      event: group.name,
      payload: structuredClone(example) as Record<string, any>,
    })),
  );
}
