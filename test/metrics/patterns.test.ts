import { describe, expect, it, jest } from "@jest/globals";
import { RE2JS } from "re2js";
import {
  compilePattern,
  expandedSize,
  LruCache,
  MAX_EXPANDED_SIZE,
  PATTERN_CACHE_SIZE,
  patternCache,
  patternError,
} from "../../src/metrics/patterns.js";

// Admin-entered patterns: what is refused before RE2 compiles anything, and that each distinct
// pattern is compiled once and kept in a cache of bounded size. No timings: the costly patterns
// are refused by their expanded size, which is a count.

/** Repeats `unit` as often as 200 characters allow: the longest pattern an admin may type. */
const filled = (unit: string) => unit.repeat(Math.floor(200 / unit.length));

describe("patternError", () => {
  it.each([
    ["the default branch pattern", "^(hotfix|hot-fix)[/-]"],
    ["the default title pattern", "\\bhotfix\\b"],
    ["the empty pattern", ""],
    ["a ticket number", "JIRA-\\d{1,6}"],
    ["200 plain characters", "a".repeat(200)],
    ["200 characters of alternatives", filled("(ab|cd)")],
    ["a Unicode class counted within the bound", "[\\pL\\pN]{100}"],
  ])("accepts %s", (_name, source) => {
    expect(patternError(source)).toBeNull();
  });

  it.each([
    ["201 characters", "a".repeat(201), /At most 200 characters/],
    ["a syntax error", "(unclosed", /Not a valid regular expression \(RE2 syntax\)/],
    ["U+0000", "hot\u0000fix", /cannot be stored/],
    ["half a surrogate pair", "hot\ud800fix", /cannot be stored/],
    ["the probe's 200 characters of counted repetitions", filled("(\\pL?){1000}"), /Too large once/],
    ["one large count", "\\pL{1000}", /Too large once/],
    ["nested counts whose product is large", "((a{10}){10}){10}", /Too large once/],
    ["an unbounded count", "\\w{600,}", /Too large once/],
  ])("refuses %s with a clear message", (_name, source, message) => {
    expect(patternError(source)).toMatch(message);
  });
});

describe("expandedSize", () => {
  it.each([
    ["abc", 3],
    ["a{5}", 5],
    ["a{2,7}", 7],
    ["a{4,}", 5],
    ["(ab){3}", 6],
    ["(a{2}b){3}", 9],
    ["a?b*c+", 6],
    ["(a|bc)", 3],
    ["[a-z{}]{10}", 10],
    ["\\pL{10}", 10],
    ["\\p{Greek}{10}", 10],
    ["\\x{263a}{4}", 4],
    ["\\Qa{1000}\\E", 7],
    ["a\\{1000}", 7],
  ])("%s is %i", (source, size) => {
    expect(expandedSize(source)).toBe(size);
  });

  it("bounds every pattern the length limit allows without counts", () => {
    for (const unit of ["a", "a?", "\\pL", "[ab]*", "(a|b)", "\\b"]) {
      expect(expandedSize(filled(unit))).toBeLessThanOrEqual(MAX_EXPANDED_SIZE);
    }
  });
});

describe("compiling", () => {
  it("compiles each distinct pattern once, whether validated, used, or used as a fallback", () => {
    const compile = jest.spyOn(RE2JS, "compile");
    try {
      const source = `once-${Math.random()}`;
      expect(patternError(source)).toBeNull();
      expect(compilePattern(source).test(`a ${source.toUpperCase()} b`)).toBe(true);
      expect(compilePattern("(bad", source).test(source)).toBe(true);
      expect(compile.mock.calls.filter(([pattern]) => pattern === source)).toHaveLength(1);
    } finally {
      compile.mockRestore();
    }
  });

  it("never compiles a pattern refused for its size, and falls back from it", () => {
    const compile = jest.spyOn(RE2JS, "compile");
    try {
      const hostile = filled("(\\pL?){999}");
      expect(compilePattern(hostile, "\\bhotfix\\b").test("a hotfix")).toBe(true);
      expect(compile.mock.calls.filter(([pattern]) => pattern === hostile)).toHaveLength(0);
    } finally {
      compile.mockRestore();
    }
  });

  it("keeps at most PATTERN_CACHE_SIZE compiled patterns, however many an admin previews", () => {
    for (let i = 0; i < PATTERN_CACHE_SIZE * 3; i++) patternError(`preview-${i}`);
    expect(patternCache.size).toBe(PATTERN_CACHE_SIZE);
  });
});

describe("LruCache", () => {
  it("forgets the least recently used entry first", () => {
    const cache = new LruCache<string, number>(2);
    cache.set("a", 1);
    cache.set("b", 2);
    expect(cache.get("a")).toBe(1);
    cache.set("c", 3);
    expect([cache.get("a"), cache.get("b"), cache.get("c")]).toEqual([1, undefined, 3]);
    expect(cache.size).toBe(2);
  });
});
