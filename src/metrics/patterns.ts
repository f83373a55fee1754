import { RE2JS } from "re2js";

/**
 * Admin-entered patterns (hotfix branch and title, revert title) run on text anyone can write:
 * branch names and titles of pull requests. They run on RE2 (re2js), whose matching time is linear
 * in the input whatever the pattern, so no pattern can hang a sync; a length limit keeps compiling
 * them cheap too. Matching is case-insensitive and unanchored, like a search.
 */

/** Long enough for any sensible alternation of branch prefixes or words. */
const MAX_PATTERN_LENGTH = 200;

export interface Pattern {
  test(text: string): boolean;
}

const NEVER: Pattern = { test: () => false };
const cache = new Map<string, Pattern>();

/** Why `source` cannot be a pattern, or null when it can. The empty pattern matches nothing. */
export function patternError(source: string): string | null {
  if (source.length > MAX_PATTERN_LENGTH) return `At most ${MAX_PATTERN_LENGTH} characters.`;
  if (source === "") return null;
  try {
    RE2JS.compile(source, RE2JS.CASE_INSENSITIVE);
    return null;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return `Not a valid regular expression (RE2 syntax): ${reason}`;
  }
}

/**
 * The compiled pattern. Stored settings are validated when saved; one that still does not compile
 * (say, written by an older version) falls back to `fallback` instead of failing a sync.
 */
export function compilePattern(source: string, fallback = ""): Pattern {
  const key = `${source}\u0001${fallback}`;
  let pattern = cache.get(key);
  if (!pattern) {
    const usable = patternError(source) === null ? source : patternError(fallback) === null ? fallback : "";
    if (usable === "") {
      pattern = NEVER;
    } else {
      const compiled = RE2JS.compile(usable, RE2JS.CASE_INSENSITIVE);
      pattern = { test: (text) => compiled.test(text) };
    }
    cache.set(key, pattern);
  }
  return pattern;
}
