/**
 * Go RE2 patterns (what CRD `pattern`s are written in: the API server validates them with Go's regexp)
 * as JavaScript regular expressions. RE2 syntax JavaScript lacks is rewritten: leading inline flags
 * `(?i)`, `(?s)`, `(?m)` (e.g. prometheus-operator's `^(?i)(abort|warn)?$`) become RegExp flags;
 * `\A` and `\z` become anchors; POSIX classes such as `[[:alpha:]]` become ranges; `\pL` becomes `\p{L}`.
 * ajv calls this instead of `new RegExp` (its `code.regExp` option), also in cached standalone code.
 */
const POSIX: Readonly<Record<string, string>> = {
  alnum: "0-9A-Za-z",
  alpha: "A-Za-z",
  ascii: "\\x00-\\x7F",
  blank: "\\t ",
  cntrl: "\\x00-\\x1F\\x7F",
  digit: "0-9",
  graph: "!-~",
  lower: "a-z",
  print: " -~",
  punct: "!-/:-@[-`{-~",
  space: "\\t\\n\\v\\f\\r ",
  upper: "A-Z",
  word: "0-9A-Za-z_",
  xdigit: "0-9A-Fa-f",
};

export function translateGoPattern(pattern: string): { source: string; flags: string } {
  let source = pattern;
  let flags = "";
  // Inline flags at the start, possibly after a leading ^: (?i), (?is), ...
  const inline = /^(\^?)\(\?([imsU]+)\)/.exec(source);
  if (inline) {
    flags = [...new Set(inline[2]!.replace("U", "").split(""))].join("");
    source = inline[1]! + source.slice(inline[0].length);
  }
  source = source
    .replace(/\\A/g, "^")
    .replace(/\\z/g, "$")
    .replace(/\[:(\^?)([a-z]+):\]/g, (m, neg: string, name: string) =>
      POSIX[name] && !neg ? POSIX[name]! : m,
    )
    .replace(/\\([pP])([A-Z])/g, "\\$1{$2}");
  return { source, flags };
}

export function goRegExp(pattern: string, flags: string): RegExp {
  const t = translateGoPattern(pattern);
  return new RegExp(t.source, [...new Set((flags + t.flags).split(""))].join(""));
}
// How ajv's standalone code refers to this function (resolved from conformance/, where the cached code is loaded).
goRegExp.code = 'require("./goRegExp").goRegExp';
