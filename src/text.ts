/**
 * Every string from GitHub is untrusted text on its way into Postgres, which refuses U+0000 in
 * `text` and `jsonb` and unpaired surrogates in `jsonb`. Strings are cleaned once, after parsing:
 * in a JSON text the character is already the six-character escape \u0000, so cleaning the text
 * before JSON.parse (or after JSON.stringify) would miss it.
 */

/** Drops U+0000 and replaces lone surrogates with U+FFFD. */
export function cleanText(value: string): string {
  const withoutNul = value.includes("\u0000") ? value.replaceAll("\u0000", "") : value;
  return withoutNul.isWellFormed() ? withoutNul : withoutNul.toWellFormed();
}

export function cleanOptionalText<T extends string | null | undefined>(value: T): T {
  return (typeof value === "string" ? cleanText(value) : value) as T;
}

/** A parsed JSON value with every string, keys included, cleaned. */
export function cleanJson(value: unknown): unknown {
  if (typeof value === "string") return cleanText(value);
  if (Array.isArray(value)) return value.map(cleanJson);
  if (value !== null && typeof value === "object") {
    // fromEntries defines own properties: a "__proto__" key stays a key instead of setting the prototype.
    return Object.fromEntries(
      Object.entries(value).map(([key, child]) => [cleanText(key), cleanJson(child)]),
    );
  }
  return value;
}
