import { mkdir } from "node:fs/promises";
import { chromium, type Browser, type Locator, type Page } from "playwright-core";

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

/** Where screenshots go (not committed). */
const SCREENSHOTS = "test/screenshots";

/**
 * A screenshot for a person to look at, written when TEST_SCREENSHOTS=1 (`TEST_SCREENSHOTS=1 npm
 * test -- test/e2e`). It asserts nothing, and a full page costs the browser tests a second or so of
 * CPU each, some 10 s of the suite's longest file, so the suite takes none by default.
 */
export async function screenshot(target: Page | Locator, name: string): Promise<void> {
  if (process.env.TEST_SCREENSHOTS !== "1") return;
  await mkdir(SCREENSHOTS, { recursive: true });
  const path = `${SCREENSHOTS}/${name}.png`;
  await ("goto" in target ? target.screenshot({ path, fullPage: true }) : target.screenshot({ path }));
}
