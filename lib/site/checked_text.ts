/**
 * Authored answers with checked numbers. People write the homework answers as Markdown beside each problem; every
 * number in them is an expression over the problem's results, and every qualitative claim carries a check:
 *
 *   Mamba keeps {{ mean(acc(model="mamba", tau=1, at="3L")) | pct }} at 3L
 *   {{ check: min(acc(model="mamba", tau=1, at="3L")) >= 0.9 }} on every seed.
 *
 * `fill` evaluates every `{{ }}`: a value is formatted into the text, a check renders nothing and must hold; when
 * one does not (or an expression names runs that do not exist), the build fails with the file, the sentence and
 * the values, so a text can never silently disagree with its data.
 *
 * The expression language is small on purpose: numbers, "strings", true/false, calls with positional and named
 * arguments, arithmetic (+ - * /), comparisons (< <= > >= == !=), `and`, `or`, `not`, parentheses, and a final
 * `| format`. Functions come from a table (`TextFunctions`) the caller supplies: lookups over runs and reductions
 * over seeds; a missing function, a bad argument or a non-boolean check is an error that names the expression.
 */

/** What an expression can evaluate to: a seed list is an array (null where a seed has no value). */
export type TextValue = number | string | boolean | null | readonly (number | null)[];

/** A function callable from a template: positional and named arguments, already evaluated. */
export type TextFunction = (args: readonly TextValue[], named: Readonly<Record<string, TextValue>>) => TextValue;

export type TextFunctions = Readonly<Record<string, TextFunction>>;

/** A value formatter, by name after `|`. */
export type TextFormat = (value: TextValue) => string;

/** A template that cannot be built: the message names the file, the sentence and what failed. */
export class CheckedTextError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CheckedTextError";
  }
}

// ---------------------------------------------------------------------------------------------------------
// Parsing.

type Node =
  | { readonly kind: "literal"; readonly value: TextValue }
  | { readonly kind: "call"; readonly name: string; readonly args: readonly Node[]; readonly named: [string, Node][] }
  | { readonly kind: "unary"; readonly op: "not" | "-"; readonly arg: Node }
  | { readonly kind: "binary"; readonly op: string; readonly left: Node; readonly right: Node };

const TOKEN = /\s*(?:(\d+(?:\.\d+)?(?:e[-+]?\d+)?)|("[^"]*")|([A-Za-z_][A-Za-z_0-9]*)|(<=|>=|==|!=|[-+*/<>(),=|]))/y;

function tokenize(text: string): string[] {
  const out: string[] = [];
  TOKEN.lastIndex = 0;
  let at = 0;
  while (at < text.length) {
    if (/^\s*$/.test(text.slice(at))) break;
    TOKEN.lastIndex = at;
    const m = TOKEN.exec(text);
    if (m === null) throw new Error(`cannot read "${text.slice(at).trim()}"`);
    out.push(m[1] ?? m[2] ?? m[3] ?? m[4]);
    at = TOKEN.lastIndex;
  }
  return out;
}

/** Parse an expression (without its `| format`). Grammar: or > and > not > comparison > sum > product > unary. */
export function parseExpression(text: string): Node {
  const tokens = tokenize(text);
  let i = 0;
  const peek = () => tokens[i];
  const take = (t?: string) => {
    const got = tokens[i];
    if (got === undefined || (t !== undefined && got !== t)) throw new Error(`expected ${t ?? "more"} in "${text}"`);
    i++;
    return got;
  };
  const binary = (next: () => Node, ops: readonly string[]) => (): Node => {
    let left = next();
    while (ops.includes(peek())) {
      const op = take();
      left = { kind: "binary", op, left, right: next() };
    }
    return left;
  };
  const primary = (): Node => {
    const t = take();
    if (t === "(") {
      const inner = or();
      take(")");
      return inner;
    }
    if (/^\d/.test(t)) return { kind: "literal", value: Number(t) };
    if (t.startsWith('"')) return { kind: "literal", value: t.slice(1, -1) };
    if (t === "true" || t === "false") return { kind: "literal", value: t === "true" };
    if (t === "null") return { kind: "literal", value: null };
    if (!/^[A-Za-z_]/.test(t)) throw new Error(`unexpected "${t}" in "${text}"`);
    take("(");
    const args: Node[] = [], named: [string, Node][] = [];
    while (peek() !== ")") {
      if (tokens[i + 1] === "=" && /^[A-Za-z_]/.test(peek())) {
        const key = take();
        take("=");
        named.push([key, or()]);
      } else {
        if (named.length > 0) throw new Error(`a positional argument after named ones in "${text}"`);
        args.push(or());
      }
      if (peek() !== ")") take(",");
    }
    take(")");
    return { kind: "call", name: t, args, named };
  };
  const unary = (): Node => {
    if (peek() === "-" || peek() === "not") return { kind: "unary", op: take() as "-" | "not", arg: unary() };
    return primary();
  };
  const product = binary(unary, ["*", "/"]);
  const sum = binary(product, ["+", "-"]);
  const comparison = binary(sum, ["<", "<=", ">", ">=", "==", "!="]);
  const and = binary(comparison, ["and"]);
  const or = binary(and, ["or"]);
  const node = or();
  if (i < tokens.length) throw new Error(`unexpected "${tokens[i]}" in "${text}"`);
  return node;
}

// ---------------------------------------------------------------------------------------------------------
// Evaluation.

function numberOf(v: TextValue, what: string): number {
  if (typeof v !== "number" || !Number.isFinite(v)) throw new Error(`${what} is ${JSON.stringify(v)}, not a number`);
  return v;
}

/** Evaluate a parsed expression with `fns`. */
export function evaluate(node: Node, fns: TextFunctions): TextValue {
  switch (node.kind) {
    case "literal":
      return node.value;
    case "call": {
      const fn = fns[node.name];
      if (fn === undefined) {
        throw new Error(`no function ${node.name}() (known: ${Object.keys(fns).sort().join(", ")})`);
      }
      return fn(
        node.args.map((a) => evaluate(a, fns)),
        Object.fromEntries(node.named.map(([k, a]) => [k, evaluate(a, fns)])),
      );
    }
    case "unary": {
      const v = evaluate(node.arg, fns);
      if (node.op === "not") {
        if (typeof v !== "boolean") throw new Error(`not of ${JSON.stringify(v)}`);
        return !v;
      }
      return -numberOf(v, "the operand of -");
    }
    case "binary": {
      const l = evaluate(node.left, fns);
      if (node.op === "and" || node.op === "or") {
        if (typeof l !== "boolean") throw new Error(`${node.op} of ${JSON.stringify(l)}`);
        if (node.op === "and" ? !l : l) return l;
        const r = evaluate(node.right, fns);
        if (typeof r !== "boolean") throw new Error(`${node.op} of ${JSON.stringify(r)}`);
        return r;
      }
      const r = evaluate(node.right, fns);
      if (node.op === "==" || node.op === "!=") return (JSON.stringify(l) === JSON.stringify(r)) === (node.op === "==");
      const a = numberOf(l, `the left side of ${node.op}`), b = numberOf(r, `the right side of ${node.op}`);
      switch (node.op) {
        case "+":
          return a + b;
        case "-":
          return a - b;
        case "*":
          return a * b;
        case "/":
          return a / b;
        case "<":
          return a < b;
        case "<=":
          return a <= b;
        case ">":
          return a > b;
        default:
          return a >= b;
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// Templates.

/** The sentence of `text` around `at`: from the previous sentence end (or paragraph start) to the next. */
export function sentenceAround(text: string, at: number): string {
  const before = text.slice(0, at), after = text.slice(at);
  const start = Math.max(before.lastIndexOf(". "), before.lastIndexOf("\n\n"), before.lastIndexOf("? ")) + 1;
  const endMatch = /[.?!](\s|$)/.exec(after);
  const end = endMatch === null ? text.length : at + endMatch.index + 1;
  return text.slice(start, end).replace(/\{\{.*?\}\}/gs, "…").replace(/\s+/g, " ").trim();
}

/**
 * Fill every `{{ expr | format }}` of `template` and check every `{{ check: expr }}`. Throws a CheckedTextError
 * naming `source`, the sentence and the reason at the first placeholder that cannot be filled or check that fails.
 */
export function fill(
  template: string,
  source: string,
  fns: TextFunctions,
  formats: Readonly<Record<string, TextFormat>>,
): string {
  return template.replace(/\{\{(.*?)\}\}/gs, (whole, body: string, offset: number) => {
    if (/^\s*figure:/.test(body)) return whole; // placed by the Markdown renderer (markdown.ts)
    const fail = (why: string): never => {
      throw new CheckedTextError(`${source}: ${why}, in the sentence "${sentenceAround(template, offset)}"`);
    };
    if (/\n\s*>/.test(body)) {
      return fail(
        `a line inside {{${body}}} starts with ">", which Markdown (and deno fmt) reads as a quotation: ` +
          `write the comparison the other way round`,
      );
    }
    const check = /^\s*check:/.exec(body);
    const [exprText, formatName] = check ? [body.slice(check[0].length), undefined] : splitFormat(body);
    let value: TextValue;
    try {
      value = evaluate(parseExpression(exprText.trim()), fns);
    } catch (e) {
      return fail(`{{${body}}} cannot be evaluated (${(e as Error).message})`);
    }
    if (check) {
      if (typeof value !== "boolean") {
        return fail(`the check {{${body}}} gives ${JSON.stringify(value)}, not true/false`);
      }
      if (!value) return fail(`the check {{${body}}} does not hold${valuesNote(exprText, fns)}`);
      return "";
    }
    const format = formatName === undefined ? defaultFormat : formats[formatName];
    if (format === undefined) return fail(`no format "${formatName}" (known: ${Object.keys(formats).join(", ")})`);
    try {
      return format(value);
    } catch (e) {
      return fail(`{{${body}}} cannot be formatted (${(e as Error).message})`);
    }
  });
}

function splitFormat(body: string): [string, string | undefined] {
  const bar = body.lastIndexOf("|");
  if (bar < 0 || body.slice(bar + 1).includes('"')) return [body, undefined];
  return [body.slice(0, bar), body.slice(bar + 1).trim()];
}

function defaultFormat(v: TextValue): string {
  if (Array.isArray(v)) throw new Error("a list of seeds needs a format or a reduction (mean, min, max)");
  return String(v);
}

/** The values of the comparison's two sides, for a failed check's message. */
function valuesNote(exprText: string, fns: TextFunctions): string {
  try {
    const node = parseExpression(exprText.trim());
    if (node.kind !== "binary" || ["and", "or"].includes(node.op)) return "";
    const show = (n: Node) => JSON.stringify(evaluate(n, fns));
    return ` (${show(node.left)} ${node.op} ${show(node.right)})`;
  } catch {
    return "";
  }
}
