import { Writable } from "node:stream";
import type { Logger } from "pino";
import { createLogger } from "../../src/logger.js";

export interface CapturedLog {
  /** The production logger (src/logger.ts), writing here instead of stdout. */
  log: Logger;
  /** Every line written so far, parsed. */
  lines: Record<string, any>[];
  /** Everything written so far, as written: what a grep of the logs would see. */
  text(): string;
}

export function captureLog(level: "trace" | "debug" | "info" = "info"): CapturedLog {
  const raw: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      raw.push(chunk.toString("utf8"));
      done();
    },
  });
  return {
    log: createLogger({ logLevel: level }, stream),
    get lines() {
      return raw
        .join("")
        .split("\n")
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, any>);
    },
    text: () => raw.join(""),
  };
}
