import { expandedSize, patternError, compilePattern, patternCache } from "./src/metrics/patterns.js";
const mk = (unit: string, n = 200) => { let s = ""; while ((s + unit).length <= n) s += unit; return s; };
const cases = ["(\\pL?){166}", "((\\pL?){15}){16}", mk("[\\pL\\pN]?"), "(\\pL|\\pN|\\pP){166}", mk("\\pL"), mk("\\pL?"), "(a*b){166}", "[^\\n]{499}", "(\\b\\w?){166}", "(?i)(\\pL?){160}x", mk("\\p{Greek}?"), "\\pL{499}", "[\\pL\\pN\\pP]{166}",  mk("[\\p{Lu}\\p{Ll}\\p{N}]")];
for (let round = 0; round < 3; round++) for (const p of cases) {
  const t = performance.now();
  const e = patternError(p + " ".repeat(round)); const c = performance.now();
  compilePattern(p + " ".repeat(round)).test("hello world ".repeat(20));
  if (round == 2) console.log(expandedSize(p), p.slice(0, 30), e?.slice(0,20) ?? "ok", (c - t).toFixed(1), "ms compile", (performance.now() - c).toFixed(1), "ms test");
}
