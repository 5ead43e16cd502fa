import assert from "node:assert/strict";
import { type FlagSpec, helpText, parseFlags, UsageError } from "../lib/cli/flags.ts";

const specs: FlagSpec[] = [
  { name: "L", type: "int", choices: [32, 64], default: 64, help: "length" },
  { name: "steps", type: "int", min: 1, help: "cap" },
  { name: "lr", type: "number", min: 0, max: 1, help: "rate" },
  { name: "out", type: "string", default: "reports", help: "dir" },
  { name: "quick", type: "boolean", help: "smoke" },
];

Deno.test("parseFlags() converts values and fills defaults", () => {
  const f = parseFlags(["--L", "32", "--steps=10", "--lr", "0.5", "--quick"], specs, "usage")!;
  assert.deepEqual(f, { L: 32, steps: 10, lr: 0.5, out: "reports", quick: true });
  assert.deepEqual(parseFlags([], specs, "usage"), {
    L: 64,
    steps: undefined,
    lr: undefined,
    out: "reports",
    quick: undefined,
  });
});

Deno.test("parseFlags() rejects bad command lines with one line naming the flag", () => {
  const cases: [string[], string][] = [
    [["--L", "48"], '--L must be one of 32, 64, got "48"'],
    [["--steps", "0"], '--steps must be an integer >= 1, got "0"'],
    [["--steps", "ten"], '--steps must be an integer >= 1, got "ten"'],
    [["--steps", "2.5"], "--steps must be an integer"],
    [["--lr", "2"], "--lr must be a number in [0, 1]"],
    [["--bogus"], "unknown flag --bogus"],
    [["--steps"], "--steps needs a value"],
    [["extra"], 'unexpected argument "extra"'],
  ];
  for (const [argv, message] of cases) {
    assert.throws(
      () => parseFlags(argv, specs, "usage"),
      (e: unknown) => e instanceof UsageError && e.message.startsWith(message) && !e.message.includes("\n"),
      argv.join(" "),
    );
  }
});

Deno.test("helpText() states each flag's kind, range and default, and calls free text neither number nor range", () => {
  const help = helpText("usage", specs);
  assert.match(help, /--L <int>\n {6}length \(one of 32, 64; default 64\)/);
  assert.match(help, /--steps <int>\n {6}cap \(an integer >= 1\)/);
  assert.match(help, /--lr <number>\n {6}rate \(a number in \[0, 1\]\)/);
  assert.match(help, /--out <value>\n {6}dir \(default reports\)/);
  assert.match(help, /--quick\n {6}smoke\n/);
});
