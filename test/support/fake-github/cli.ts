/**
 * Runs the fake GitHub for `npm run demo`: seeds one org, then prints one JSON line on stdout that a
 * demo script reads (GHE_HOST, app id, installation id, and a throwaway private key for Probot,
 * whose JWT signatures the fake never checks). Stops on SIGINT/SIGTERM.
 *
 *   tsx test/support/fake-github/cli.ts --port 3999 --org acme --repos 5 --prs 200 --app-id 1
 */
import { generateKeyPairSync } from "node:crypto";
import { parseArgs } from "node:util";
import { startFakeGitHub } from "./server.js";

const { values } = parseArgs({
  options: {
    port: { type: "string", default: "3999" },
    org: { type: "string", default: "acme" },
    repos: { type: "string", default: "5" },
    prs: { type: "string", default: "200" },
    members: { type: "string", default: "20" },
    "app-id": { type: "string", default: "1" },
    "installation-id": { type: "string" },
    seed: { type: "string", default: "1" },
    "long-lists": { type: "boolean", default: false },
    "latency-ms": { type: "string", default: "0" },
    "per-node-ms": { type: "string", default: "0" },
  },
});

const fake = await startFakeGitHub({
  port: Number(values.port),
  seed: Number(values.seed),
  latency: { baseMs: Number(values["latency-ms"]), perNodeMs: Number(values["per-node-ms"]) },
});
const appId = Number(values["app-id"]);
const { installation, org, repos } = fake.world.seedOrg({
  login: values.org,
  repos: Number(values.repos),
  prsPerRepo: Number(values.prs),
  members: Number(values.members),
  appId,
  installationId: values["installation-id"] === undefined ? undefined : Number(values["installation-id"]),
  longLists: values["long-lists"],
});
// Probot insists on a well-formed key even though the fake ignores the signature.
const { privateKey } = generateKeyPairSync("rsa", {
  modulusLength: 2048,
  privateKeyEncoding: { type: "pkcs8", format: "pem" },
  publicKeyEncoding: { type: "spki", format: "pem" },
});

process.stdout.write(
  `${JSON.stringify({
    GHE_HOST: fake.host,
    GHE_PROTOCOL: "http",
    url: fake.url,
    appId,
    installationId: installation.id,
    org: org.login,
    repos: repos.map((r) => r.name),
    privateKey,
  })}\n`,
);

const stop = (): void => {
  void fake.close().then(() => process.exit(0));
};
process.once("SIGINT", stop);
process.once("SIGTERM", stop);
