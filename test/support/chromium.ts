import { chromium, type Browser } from "playwright-core";

/** Debian's chromium, which playwright-core drives for the tests of what a person sees. */
export const CHROMIUM = "/usr/bin/chromium";

/**
 * A headless chromium for a test file; close it in afterAll. (Apart from support/browser.ts, whose
 * route tests need no playwright loaded.)
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
  });
}
