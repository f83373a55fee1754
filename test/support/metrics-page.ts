import type { Page } from "./browser.js";

// Reading the metrics page and its CSV export as a person or a spreadsheet would.

/** The weekly table as { week: { metric: text } }, and the exact hours behind each duration. */
export function table(page: Pick<Page, "body">) {
  const rows: Record<string, Record<string, string>> = {};
  const exact: Record<string, Record<string, string>> = {};
  for (const [, week, cells] of page.body.matchAll(/<tr data-week="([^"]+)"[^>]*>([\s\S]*?)<\/tr>/g)) {
    rows[week!] = {};
    exact[week!] = {};
    for (const [, metric, title, text] of cells!.matchAll(
      /<td class="num" data-metric="([^"]+)"(?: title="([^"]+)")?>([^<]*)<\/td>/g,
    )) {
      rows[week!]![metric!] = text!;
      if (title) exact[week!]![metric!] = title;
    }
  }
  return { rows, exact };
}

/** RFC 4180, strictly: quoted fields may hold commas, doubled quotes and line breaks; CRLF ends a record. */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let at = 0;
  while (at < text.length) {
    let field = "";
    if (text[at] === '"') {
      at++;
      for (;;) {
        const quote = text.indexOf('"', at);
        if (quote < 0) throw new Error("unterminated quoted field");
        field += text.slice(at, quote);
        if (text[quote + 1] === '"') {
          field += '"';
          at = quote + 2;
        } else {
          at = quote + 1;
          break;
        }
      }
    } else {
      const end = text.slice(at).search(/,|\r\n/);
      field = end < 0 ? text.slice(at) : text.slice(at, at + end);
      if (/["\r\n]/.test(field)) throw new Error(`unquoted field with a quote or line break: ${field}`);
      at = end < 0 ? text.length : at + end;
    }
    record.push(field);
    if (text[at] === ",") at++;
    else if (text.startsWith("\r\n", at)) {
      records.push(record);
      record = [];
      at += 2;
    } else if (at < text.length) throw new Error(`unexpected character at ${at}`);
  }
  if (record.length > 0) records.push(record);
  return records;
}

export function csvObjects(text: string): Record<string, string>[] {
  const [header, ...records] = parseCsv(text);
  return records.map((record) => Object.fromEntries(header!.map((name, index) => [name, record[index]!])));
}
