/**
 * Command-line flags for every script: a declarative table, parsed with Deno's built-in `node:util` parseArgs
 * (standing in for jsr:@std/cli, which is unreachable here), each value checked against its type and range.
 * Any problem is a `UsageError`: one line that names the flag and what it accepts; `cliMain` prints it and
 * exits with code 2 before anything is written.
 */
import { CheckedTextError } from "../site/checked_text.ts";
import { parseArgs } from "node:util";
import { dirname, join, resolve as resolvePath } from "node:path";
import { ConfigError } from "../training/config.ts";

export type FlagValue = number | string | boolean | undefined;

export interface FlagSpec {
  readonly name: string;
  /**
   * "dir": a folder path; it may not exist yet, but must not name an existing file, and the folder (or the nearest
   * existing folder above it) must be writable. "file": an output file path, not a folder, in a writable folder.
   * Both are checked when the flags are parsed, before any work.
   */
  readonly type: "int" | "number" | "string" | "dir" | "file" | "boolean";
  readonly help: string;
  readonly min?: number;
  readonly max?: number;
  readonly choices?: readonly (string | number)[];
  readonly default?: number | string | boolean;
  /** Flags that may not be given together with this one (a UsageError naming both). */
  readonly excludes?: readonly string[];
}

/** A bad command line: the message is the whole one-line explanation. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

function rangeText(s: FlagSpec): string {
  if (s.choices) return `one of ${s.choices.join(", ")}`;
  if (s.type === "string" || s.type === "dir" || s.type === "file" || s.type === "boolean") return ""; // free text
  const kind = s.type === "int" ? "an integer" : "a number";
  if (s.min !== undefined && s.max !== undefined) return `${kind} in [${s.min}, ${s.max}]`;
  if (s.min !== undefined) return `${kind} >= ${s.min}`;
  return kind;
}

function statOrNull(path: string): Deno.FileInfo | null {
  try {
    return Deno.statSync(path);
  } catch {
    return null;
  }
}

/**
 * Refuse `path` unless files can be created in it or, when it does not exist yet, in the nearest folder above it
 * that exists: a probe file is created and removed there, so a result is never computed for a place it cannot go.
 */
function checkWritable(s: FlagSpec, path: string, start: string = path): void {
  let dir = resolvePath(start);
  while (statOrNull(dir) === null && dirname(dir) !== dir) dir = dirname(dir);
  const info = statOrNull(dir);
  if (info === null || !info.isDirectory) {
    throw new UsageError(`--${s.name} "${path}" cannot be created: ${dir} is not a folder`);
  }
  try {
    const probe = Deno.makeTempFileSync({ dir, prefix: ".write-probe-" });
    Deno.removeSync(probe);
  } catch (e) {
    const why = (e as Error).message.split("\n")[0].replace(/ \(os error \d+\)/, "").replace(/:.*$/, "");
    throw new UsageError(`--${s.name} "${path}" is not writable (${dir}: ${why})`);
  }
}

/** A "dir" flag's value: refused when empty, when it names a file, or when it cannot be written. */
function checkDir(s: FlagSpec, path: string): string {
  if (path.trim() === "") throw new UsageError(`--${s.name} must be a folder, got an empty path`);
  const info = statOrNull(path);
  if (info !== null && !info.isDirectory) {
    throw new UsageError(`--${s.name} must be a folder, got "${path}", which is a file`);
  }
  checkWritable(s, path);
  return path;
}

/** A "file" flag's value (an output file): refused when empty, a folder, or in a folder that cannot be written. */
function checkFile(s: FlagSpec, path: string): string {
  if (path.trim() === "") throw new UsageError(`--${s.name} must be a file path, got an empty path`);
  if (statOrNull(path)?.isDirectory) {
    throw new UsageError(`--${s.name} must be a file, got "${path}", which is a folder`);
  }
  const parent = dirname(resolvePath(path));
  if (!statOrNull(parent)?.isDirectory) {
    throw new UsageError(`--${s.name} "${path}": the folder ${parent} does not exist`);
  }
  checkWritable(s, path, parent);
  return path;
}

function convert(s: FlagSpec, raw: string): number | string {
  if (s.type === "dir") return checkDir(s, raw);
  if (s.type === "file") return checkFile(s, raw);
  if (s.type === "string") {
    if (s.choices && !s.choices.includes(raw)) {
      throw new UsageError(`--${s.name} must be ${rangeText(s)}, got "${raw}"`);
    }
    return raw;
  }
  const text = raw.trim();
  const value = text === "" ? NaN : Number(text);
  const bad = !Number.isFinite(value) || (s.type === "int" && !Number.isInteger(value)) ||
    (s.min !== undefined && value < s.min) || (s.max !== undefined && value > s.max) ||
    (s.choices !== undefined && !s.choices.includes(value));
  if (bad) throw new UsageError(`--${s.name} must be ${rangeText(s)}, got "${raw}"`);
  return value;
}

/** The --help text for a script. */
export function helpText(usage: string, specs: readonly FlagSpec[]): string {
  const rows = specs.map((s) => {
    const arg = s.type === "boolean"
      ? ""
      : ` <${s.type === "string" ? "value" : s.type === "dir" ? "folder" : s.type}>`; // "file" shows as <file>
    const range = rangeText(s) === "" ? "" : ` (${rangeText(s)}`;
    const def = s.default === undefined ? (range ? ")" : "") : `${range ? "; " : " ("}default ${s.default})`;
    return `  --${s.name}${arg}\n      ${s.help}${range}${def}`;
  });
  return `${usage}\n\nFlags:\n${rows.join("\n")}\n  -h, --help\n      Show this help and exit.`;
}

/**
 * Parse `argv` against `specs`. Returns null when --help was given (after printing the help text).
 * Throws UsageError for unknown flags, missing values, positional arguments or out-of-range values.
 */
export function parseFlags(
  argv: readonly string[],
  specs: readonly FlagSpec[],
  usage: string,
): Record<string, FlagValue> | null {
  const options: Record<string, { type: "string" | "boolean"; short?: string }> = {
    help: { type: "boolean", short: "h" },
  };
  for (const s of specs) options[s.name] = { type: s.type === "boolean" ? "boolean" : "string" };
  // parseArgs refuses a value that starts with "-" ("--steps -3"); join negative numbers to their flag so the
  // range check can name the flag and the bad value.
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i].startsWith("--") ? argv[i].slice(2) : "";
    const next = argv[i + 1];
    if (options[name]?.type === "string" && next !== undefined && /^-[\d.]/.test(next)) {
      args.push(`--${name}=${next}`);
      i++;
    } else args.push(argv[i]);
  }
  let parsed;
  try {
    parsed = parseArgs({ args, options, strict: true, allowPositionals: false });
  } catch (e) {
    const msg = (e as Error).message;
    const unknown = msg.match(/Unknown option '([^']+)'/);
    if (unknown) throw new UsageError(`unknown flag ${unknown[1]} (see --help for the flags)`);
    const missing = msg.match(/Option '(?:-\w, )?(--[\w-]+)[^']*' argument missing/);
    if (missing) throw new UsageError(`${missing[1]} needs a value (see --help)`);
    const ambiguous = msg.match(/Option '(--[\w-]+)' argument is ambiguous/);
    if (ambiguous) throw new UsageError(`${ambiguous[1]} needs a value (see --help)`);
    const positional = msg.match(/Unexpected argument '([^']+)'/);
    if (positional) throw new UsageError(`unexpected argument "${positional[1]}" (flags look like --name value)`);
    throw new UsageError(msg.split("\n")[0]);
  }
  if (parsed.values.help) {
    console.log(helpText(usage, specs));
    return null;
  }
  for (const s of specs) {
    const clash = parsed.values[s.name] === undefined
      ? undefined
      : s.excludes?.find((n) => parsed.values[n] !== undefined);
    if (clash) throw new UsageError(`--${s.name} cannot be combined with --${clash} (see --help)`);
  }
  const out: Record<string, FlagValue> = {};
  for (const s of specs) {
    const raw = parsed.values[s.name];
    if (raw === undefined) {
      out[s.name] = s.type === "dir"
        ? checkDir(s, s.default as string)
        : s.type === "file" && s.default !== undefined
        ? checkFile(s, s.default as string)
        : s.default;
    } else if (s.type === "boolean") out[s.name] = raw as boolean;
    else out[s.name] = convert(s, raw as string);
  }
  return out;
}

/** Run a script's main: usage and config errors print one line and exit 2; other errors exit 1. */
export async function cliMain(main: () => Promise<void> | void): Promise<void> {
  try {
    await main();
  } catch (e) {
    if (e instanceof UsageError || e instanceof ConfigError) {
      console.error(`error: ${e.message}`);
      Deno.exit(2);
    }
    if (e instanceof CheckedTextError) {
      // Expected: authored answers the data no longer supports. The message names the file and the sentence.
      console.error(`error: ${e.message}`);
      Deno.exit(1);
    }
    // Unexpected: one line for the user, the whole trace in a file they can send along.
    const trace = join(Deno.env.get("TMPDIR") ?? "/tmp", `recall-lab-error-${Date.now()}.txt`);
    let where = "";
    try {
      Deno.writeTextFileSync(trace, `${new Date().toISOString()} ${Deno.args.join(" ")}\n${(e as Error).stack ?? e}\n`);
      where = ` (the full trace is in ${trace})`;
    } catch {
      where = "";
    }
    console.error(`error: unexpected: ${String((e as Error).message ?? e).split("\n")[0]}${where}`);
    Deno.exit(1);
  }
}

/**
 * The --far-lengths value: "4,8,16" as [4, 8, 16], "none" as [], undefined when not given. Range checks are the
 * config's (checkFarLengths); this only refuses what is not a list of integers.
 */
export function farLengthsFlag(raw: FlagValue): number[] | undefined {
  if (raw === undefined) return undefined;
  const text = String(raw).trim();
  if (text === "none") return [];
  const parts = text.split(",").map((p) => p.trim());
  if (!parts.every((p) => /^\d+$/.test(p))) {
    throw new UsageError(`--far-lengths must be multiples of L like 4,8,16 (or none), got "${raw}"`);
  }
  return parts.map(Number);
}
