/**
 * Minimal-diff edits of a Pulumi stack file: values are replaced in place and keys inserted or removed
 * as whole lines, so every line the edit does not concern stays byte-identical (comments, quoting,
 * flow lists, blank lines). The `yaml` library locates nodes (source ranges); the text is spliced.
 */
import {
  Document,
  isMap,
  isPair,
  isScalar,
  isSeq,
  parseDocument,
  type Node,
  type Pair,
  type YAMLMap,
} from "yaml";

export type Path = ReadonlyArray<string | number>;

function parse(text: string) {
  const doc = parseDocument(text, { keepSourceTokens: true });
  if (doc.errors.length > 0) throw new Error(`the stack file is not valid YAML: ${doc.errors[0]!.message}`);
  return doc;
}

function lineStart(text: string, pos: number): number {
  return text.lastIndexOf("\n", pos - 1) + 1;
}

/** End of the line holding the last character before `pos` (a range ending at a line start belongs above). */
function lineEnd(text: string, pos: number): number {
  if (pos > 0 && text[pos - 1] === "\n") return pos - 1;
  const i = text.indexOf("\n", pos);
  return i < 0 ? text.length : i;
}

function isScalarValue(v: unknown): boolean {
  return v === null || ["string", "number", "boolean"].includes(typeof v);
}

/**
 * YAML for `key: value` (or a bare value) as lines without indentation; lists of scalars in flow style,
 * and the whole value in flow style when it replaces a flow collection.
 */
function render(value: unknown, key?: string, flow = false): string[] {
  const doc = new Document(key === undefined ? value : { [key]: value });
  if (flow && (isSeq(doc.contents) || isMap(doc.contents))) doc.contents.flow = true;
  const flowScalarLists = (node: unknown) => {
    if (isSeq(node) && node.items.every((i) => isScalar(i))) node.flow = true;
    if (isSeq(node) || isMap(node)) for (const i of node.items) flowScalarLists(isPair(i) ? i.value : i);
  };
  flowScalarLists(doc.contents);
  return doc.toString({ lineWidth: 0, flowCollectionPadding: false }).trimEnd().split("\n");
}

function pairAt(
  doc: ReturnType<typeof parse>,
  path: Path,
): { map: YAMLMap; pair: Pair<Node, Node> } | undefined {
  const parent = path.length === 1 ? doc.contents : doc.getIn(path.slice(0, -1), true);
  if (!isMap(parent)) return undefined;
  const key = path[path.length - 1];
  const pair = parent.items.find((p) => isScalar(p.key) && p.key.value === key) as
    Pair<Node, Node> | undefined;
  return pair ? { map: parent, pair } : undefined;
}

/** Start and end offsets of a pair's lines, with the comment lines right above it at the same indent. */
function pairLines(text: string, pair: Pair<Node, Node>): [number, number] {
  let start = lineStart(text, pair.key!.range![0]);
  const indent = pair.key!.range![0] - start;
  const valueEnd = pair.value?.range?.[1] ?? pair.key!.range![2];
  const end = lineEnd(text, valueEnd);
  for (;;) {
    if (start === 0) break;
    const prev = lineStart(text, start - 1);
    const line = text.slice(prev, start - 1);
    if (line.trimStart().startsWith("#") && line.length - line.trimStart().length === indent) start = prev;
    else break;
  }
  return [start, end];
}

function removeLines(text: string, [start, end]: [number, number]): string {
  return text.slice(0, start) + text.slice(Math.min(end + 1, text.length));
}

export function deleteKey(text: string, path: Path): string {
  const doc = parse(text);
  const found = pairAt(doc, path);
  if (!found) return text;
  if (found.map.flow)
    return setValue(text, path.slice(0, -1), withoutKey(found.map.toJSON(), path[path.length - 1]!));
  return removeLines(text, pairLines(text, found.pair));
}

function withoutKey(obj: Record<string, unknown>, key: string | number): Record<string, unknown> {
  const { [key]: _removed, ...rest } = obj;
  return rest;
}

/** Sets a value, replacing it in place or inserting the key (and missing parent maps) as new lines. */
export function setValue(text: string, path: Path, value: unknown): string {
  const doc = parse(text);
  const found = pairAt(doc, path);
  if (found) {
    const node = found.pair.value;
    if (node && isScalar(node) && isScalarValue(value)) {
      const quoted = node.type === "QUOTE_DOUBLE" || node.type === "QUOTE_SINGLE";
      const rendered = quoted && typeof value === "string" ? JSON.stringify(value) : render(value)[0]!;
      return text.slice(0, node.range![0]) + rendered + text.slice(node.range![1]);
    }
    if (node && (isSeq(node) || isMap(node)) && node.flow && !isScalarValue(value))
      return (
        text.slice(0, node.range![0]) + render(value, undefined, true).join(" ") + text.slice(node.range![1])
      );
    // A block collection (or a change of kind): replace the pair's lines at the same place.
    const [start, end] = pairLines(text, found.pair);
    const keyStart = found.pair.key!.range![0];
    const indent = " ".repeat(keyStart - lineStart(text, keyStart));
    const comments = text.slice(start, lineStart(text, keyStart));
    const lines = render(value, String(path[path.length - 1])).map((l) => indent + l);
    return text.slice(0, start) + comments + lines.join("\n") + text.slice(end);
  }
  const parentPath = path.slice(0, -1);
  const parent = parentPath.length === 0 ? doc.contents : doc.getIn(parentPath, true);
  if (!parent) return setValue(text, parentPath, { [String(path[path.length - 1])]: value });
  if (!isMap(parent)) throw new Error(`${parentPath.join(".")} is not a map`);
  if (parent.flow || parent.items.length === 0)
    return setValue(text, parentPath, {
      ...(parent.toJSON() as object),
      [String(path[path.length - 1])]: value,
    });
  const last = parent.items[parent.items.length - 1] as Pair<Node, Node>;
  const first = parent.items[0] as Pair<Node, Node>;
  const keyStart = first.key!.range![0];
  const indent = " ".repeat(keyStart - lineStart(text, keyStart));
  const [, end] = pairLines(text, last);
  const lines = render(value, String(path[path.length - 1])).map((l) => indent + l);
  return `${text.slice(0, end)}\n${lines.join("\n")}${text.slice(end)}`;
}
