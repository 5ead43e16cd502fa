/**
 * A reader for the subset of YAML that cluster/k8s/indexed_job.yaml is written in, so a test can check that
 * manifest without a YAML dependency: documents separated by `---`, block mappings (`key: value`, `key:` and an
 * indented block), block sequences (`- item`, `- key: value` continuing as a mapping), `#` comments, and scalars
 * (plain, 'single-' or "double-quoted", integers, true/false, null/~, and the empty flow forms [] and {}).
 * Anything else (anchors, tags, block scalars, flow collections with items, tabs) is an error naming the line.
 */

export type YamlValue = string | number | boolean | null | YamlValue[] | { [key: string]: YamlValue };

interface Line {
  readonly no: number;
  readonly indent: number;
  readonly text: string;
}

/** `text` with a trailing comment removed (a `#` at the start or after a space, outside quotes). */
function stripComment(text: string): string {
  let quote: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote !== null) {
      if (c === "\\" && quote === '"') i++;
      else if (c === quote) quote = null;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === "#" && (i === 0 || text[i - 1] === " ")) return text.slice(0, i);
  }
  return text;
}

/** The position of the `:` that ends a mapping key in `text`, or -1. */
function keyColon(text: string): number {
  let quote: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote !== null) {
      if (c === "\\" && quote === '"') i++;
      else if (c === quote) quote = null;
    } else if ((c === '"' || c === "'") && i === 0) quote = c;
    else if (c === ":" && (i === text.length - 1 || text[i + 1] === " ")) return i;
  }
  return -1;
}

function scalar(raw: string, no: number): YamlValue {
  const t = raw.trim();
  const bad = (what: string): never => {
    throw new Error(`yaml line ${no}: ${what} is outside the supported subset: ${t}`);
  };
  if (t.startsWith('"')) {
    if (!t.endsWith('"') || t.length < 2) bad("an unterminated string");
    return JSON.parse(t) as string;
  }
  if (t.startsWith("'")) {
    if (!t.endsWith("'") || t.length < 2) bad("an unterminated string");
    return t.slice(1, -1).replaceAll("''", "'");
  }
  if (t === "[]") return [];
  if (t === "{}") return {};
  if (/^[[{&*!|>%@`]/.test(t)) bad("this form");
  if (t === "" || t === "~" || t === "null") return null;
  if (t === "true") return true;
  if (t === "false") return false;
  if (/^-?\d+$/.test(t)) return Number(t);
  return t;
}

class Reader {
  private pos = 0;
  constructor(private readonly lines: Line[]) {}

  private peek(): Line | undefined {
    return this.lines[this.pos];
  }

  /** The block starting at the current line, whose lines are indented by `indent`. */
  block(indent: number): YamlValue {
    const line = this.peek();
    if (line === undefined) return null;
    return line.text === "-" || line.text.startsWith("- ") ? this.sequence(indent) : this.mapping(indent);
  }

  private sequence(indent: number): YamlValue[] {
    const items: YamlValue[] = [];
    for (let line = this.peek(); line !== undefined && line.indent === indent; line = this.peek()) {
      if (!(line.text === "-" || line.text.startsWith("- "))) break;
      const rest = line.text.slice(1);
      const content = rest.trimStart();
      if (content === "") {
        this.pos++;
        const next = this.peek();
        items.push(next !== undefined && next.indent > indent ? this.block(next.indent) : null);
      } else if (keyColon(content) > 0) {
        // "- key: value": a mapping whose first line starts at the item's content column.
        this.lines[this.pos] = { no: line.no, indent: indent + 1 + (rest.length - content.length), text: content };
        items.push(this.mapping(this.lines[this.pos].indent));
      } else {
        this.pos++;
        items.push(scalar(content, line.no));
      }
    }
    return items;
  }

  private mapping(indent: number): { [key: string]: YamlValue } {
    const map: { [key: string]: YamlValue } = {};
    for (let line = this.peek(); line !== undefined && line.indent >= indent; line = this.peek()) {
      if (line.indent > indent) throw new Error(`yaml line ${line.no}: unexpected indentation`);
      if (line.text === "-" || line.text.startsWith("- ")) break;
      const colon = keyColon(line.text);
      if (colon <= 0) throw new Error(`yaml line ${line.no}: expected "key: value", got: ${line.text}`);
      const key = scalar(line.text.slice(0, colon), line.no);
      if (typeof key !== "string") throw new Error(`yaml line ${line.no}: keys must be text`);
      if (key in map) throw new Error(`yaml line ${line.no}: duplicate key ${key}`);
      const rest = line.text.slice(colon + 1);
      this.pos++;
      if (rest.trim() !== "") {
        map[key] = scalar(rest, line.no);
        continue;
      }
      const next = this.peek();
      const nested = next !== undefined &&
        (next.indent > indent || (next.indent === indent && (next.text === "-" || next.text.startsWith("- "))));
      map[key] = nested ? this.block(next!.indent) : null;
    }
    return map;
  }

  done(): boolean {
    return this.pos >= this.lines.length;
  }

  rest(): Line {
    return this.lines[this.pos];
  }
}

/** Every document of `text` (the subset above), in order. */
export function parseYamlDocuments(text: string): YamlValue[] {
  const docs: Line[][] = [[]];
  text.split(/\r?\n/).forEach((raw, i) => {
    if (/^\t| \t/.test(raw) && raw.trim() !== "") throw new Error(`yaml line ${i + 1}: tabs are not allowed`);
    if (/^---\s*$/.test(raw)) return void docs.push([]);
    const body = stripComment(raw).trimEnd();
    if (body.trim() === "") return;
    docs[docs.length - 1].push({ no: i + 1, indent: body.length - body.trimStart().length, text: body.trimStart() });
  });
  return docs.filter((d) => d.length > 0).map((lines) => {
    const reader = new Reader(lines);
    const value = reader.block(lines[0].indent);
    if (!reader.done()) throw new Error(`yaml line ${reader.rest().no}: unexpected indentation`);
    return value;
  });
}
