import { RE2JS } from "re2js";

/**
 * Admin-entered patterns (hotfix branch and title, revert title) run on text anyone can write:
 * branch names and titles of pull requests. They run on RE2 (re2js), whose matching time is linear
 * in the input whatever the pattern, so no pattern can hang a sync. Compiling is another matter:
 * RE2 expands counted repetitions, so a 200-character pattern such as `(\pL?){1000}` repeated
 * compiles for a second and its matcher is as large, on the event loop. A pattern's size once
 * expanded is bounded before it is compiled, each distinct pattern is compiled once, and the
 * compiled ones are kept in a small cache. Matching is case-insensitive and unanchored, like a search.
 */

/** Long enough for any sensible alternation of branch prefixes or words. */
export const MAX_PATTERN_LENGTH = 200;
/**
 * The most atoms a pattern may hold once its repetitions are expanded (see expandedSize): every
 * plain 200-character pattern fits, and so do counts such as `\d{1,6}`, while the costliest
 * pattern within it compiles in tens of milliseconds rather than a second.
 */
export const MAX_EXPANDED_SIZE = 500;
/** Compiled patterns kept: three per installation's settings, plus what an admin previews. */
export const PATTERN_CACHE_SIZE = 64;

export interface Pattern {
  test(text: string): boolean;
}

const NEVER: Pattern = { test: () => false };

type Compiled = { pattern: Pattern; error: null } | { pattern: null; error: string };

/** A cache that forgets the least recently used entry beyond `capacity`. */
export class LruCache<K, V> {
  readonly #entries = new Map<K, V>();
  constructor(readonly capacity: number) {}

  get size(): number {
    return this.#entries.size;
  }

  get(key: K): V | undefined {
    const value = this.#entries.get(key);
    if (value !== undefined) {
      // A Map iterates in insertion order: re-inserting marks the entry as the newest.
      this.#entries.delete(key);
      this.#entries.set(key, value);
    }
    return value;
  }

  set(key: K, value: V): void {
    this.#entries.delete(key);
    this.#entries.set(key, value);
    if (this.#entries.size > this.capacity) this.#entries.delete(this.#entries.keys().next().value!);
  }
}

export const patternCache = new LruCache<string, Compiled>(PATTERN_CACHE_SIZE);

/** Why `source` cannot be a pattern, or null when it can. The empty pattern matches nothing. */
export function patternError(source: string): string | null {
  return compiled(source).error;
}

/**
 * The compiled pattern. Stored settings are validated when saved; one that still does not compile
 * (say, written by an older version) falls back to `fallback` instead of failing a sync.
 */
export function compilePattern(source: string, fallback = ""): Pattern {
  return compiled(source).pattern ?? compiled(fallback).pattern ?? NEVER;
}

function compiled(source: string): Compiled {
  let entry = patternCache.get(source);
  if (!entry) {
    entry = compile(source);
    patternCache.set(source, entry);
  }
  return entry;
}

function compile(source: string): Compiled {
  const refused = refusal(source);
  if (refused) return { pattern: null, error: refused };
  if (source === "") return { pattern: NEVER, error: null };
  try {
    const regexp = RE2JS.compile(source, RE2JS.CASE_INSENSITIVE);
    return { pattern: { test: (text) => regexp.test(text) }, error: null };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { pattern: null, error: `Not a valid regular expression (RE2 syntax): ${reason}` };
  }
}

/** What is wrong with a pattern before RE2 looks at it: its length, its text, its expanded size. */
function refusal(source: string): string | null {
  if (source.length > MAX_PATTERN_LENGTH) return `At most ${MAX_PATTERN_LENGTH} characters.`;
  if (source.includes("\u0000") || !source.isWellFormed()) {
    return "The pattern holds a character that cannot be stored (U+0000 or half a surrogate pair).";
  }
  if (expandedSize(source) > MAX_EXPANDED_SIZE) {
    return `Too large once its repetitions are expanded (at most ${MAX_EXPANDED_SIZE} characters' worth): use smaller counts in {n,m}.`;
  }
  return null;
}

/** A counted repetition: {n}, {n,} or {n,m}. */
const COUNT = /^\{(\d{1,6})(?:(,)(\d{0,6}))?\}/;

/** How many times a counted repetition repeats its atom, at most: `{n,}` is n copies and a star. */
function timesOf(count: RegExpExecArray): number {
  const low = Number(count[1]);
  if (count[2] === undefined) return low;
  return count[3] === "" ? low + 1 : Math.max(low, Number(count[3]));
}

/**
 * About how many atoms RE2 compiles `source` into: each literal, escape or class is one; a group
 * is the sum of what it holds; `x{n,m}` is `x` taken max(n, m) times, and `x*`, `x+`, `x?` twice.
 * Nested counts multiply, as they do in the compiled program. Malformed patterns are left to
 * RE2's parser: the estimate only has to be no smaller than the truth for valid ones.
 */
export function expandedSize(source: string): number {
  /** The size of each open group, the whole pattern first. */
  const groups: number[] = [0];
  /** The size of the atom a quantifier would repeat. */
  let last = 0;
  const add = (size: number) => (groups[groups.length - 1]! += size);
  for (let at = 0; at < source.length;) {
    const char = source[at]!;
    const count = char === "{" ? COUNT.exec(source.slice(at)) : null;
    if (count) {
      const times = timesOf(count);
      add(last * (times - 1));
      last *= times;
      at += count[0].length;
    } else if (char === "*" || char === "+" || char === "?") {
      add(last);
      last *= 2;
      at += 1;
    } else if (char === "(") {
      groups.push(0);
      last = 0;
      at += 1;
    } else if (char === ")") {
      last = groups.length > 1 ? groups.pop()! : 0;
      add(last);
      at += 1;
    } else if (char === "|") {
      last = 0;
      at += 1;
    } else {
      const end = char === "[" ? endOfClass(source, at) : char === "\\" ? endOfEscape(source, at) : at + 1;
      // \Q...\E is a run of literals; a quantifier after it repeats the last one.
      add(source.startsWith("\\Q", at) ? Math.max(1, end - at - "\\Q\\E".length) : 1);
      last = 1;
      at = end;
    }
  }
  return groups.reduce((sum, size) => sum + size, 0);
}

/** Past a character class `[...]` starting at `at` (a leading `]` or `^]` is a literal). */
function endOfClass(source: string, at: number): number {
  let next = at + 1;
  if (source[next] === "^") next++;
  if (source[next] === "]") next++;
  while (next < source.length && source[next] !== "]") {
    const named = source.startsWith("[:", next) ? source.indexOf(":]", next + 2) : -1;
    next = source[next] === "\\" ? next + 2 : named !== -1 ? named + 2 : next + 1;
  }
  return next + 1;
}

/** Past an escape starting at `at`: `\p{Greek}` and `\x{263a}` with their braces, `\Q...\E` whole. */
function endOfEscape(source: string, at: number): number {
  const kind = source[at + 1];
  if (kind === "Q") {
    const end = source.indexOf("\\E", at + 2);
    return end === -1 ? source.length : end + 2;
  }
  if ((kind === "p" || kind === "P" || kind === "x") && source[at + 2] === "{") {
    const end = source.indexOf("}", at + 3);
    return end === -1 ? source.length : end + 1;
  }
  // \pL: a one-letter class name.
  return kind === "p" || kind === "P" ? at + 3 : at + 2;
}
