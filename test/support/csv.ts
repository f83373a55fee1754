/**
 * CSV text read the way a spreadsheet reads it: a quoted field runs to its closing quote (doubled
 * quotes are one quote), and outside quotes a comma ends a field and any line break (CRLF, a bare
 * CR, a bare LF) ends a row. A field that looks like a formula after that is one.
 */
export function readCsvAsSpreadsheet(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  for (let at = 0; at < text.length; at++) {
    const char = text[at]!;
    if (quoted) {
      if (char !== '"') field += char;
      else if (text[at + 1] === '"') field += text[++at];
      else quoted = false;
    } else if (char === '"' && field === "") {
      quoted = true;
    } else if (char === ",") {
      row.push(field);
      field = "";
    } else if (char === "\r" || char === "\n") {
      if (char === "\r" && text[at + 1] === "\n") at++;
      rows.push([...row, field]);
      row = [];
      field = "";
    } else {
      field += char;
    }
  }
  if (field !== "" || row.length > 0) rows.push([...row, field]);
  return rows;
}
