/**
 * The sequence the live probes show: typed by the user (token ids 0..K-1, as `deno task data` prints them) or drawn
 * from a seeded stream of the run's seed (lib/task/random.ts; never Math.random), and where its query and value sit.
 *
 * Pure (no DOM, no tf).
 */
import { arBatch } from "../lib/task/ar_data.ts";
import { substream } from "../lib/task/random.ts";

/** What the probes need to know of a sequence: its first query i and value position i + tau, if it has them. */
export interface SequenceRoles {
  /** The final token: the query. */
  readonly query: number;
  /** The first earlier position holding the query with room for the value tau later (before the end), or null. */
  readonly firstQuery: number | null;
  /** The token at firstQuery + tau: the right answer, or null without a first query. */
  readonly value: number | null;
}

/** The roles of `tokens` at delay tau, read the way AR sequences are built (lib/task/ar_data.ts). */
export function sequenceRoles(tokens: readonly number[], tau: number): SequenceRoles {
  const l = tokens.length;
  const query = tokens[l - 1];
  for (let i = 0; i + tau < l - 1; i++) {
    if (tokens[i] === query) return { query, firstQuery: i, value: tokens[i + tau] };
  }
  return { query, firstQuery: null, value: null };
}

/** Tokens from text ("3 0 5, 7"), each an id in 0..K-1, tau+2 .. maxLength of them; or the rule it breaks. */
export function parseTokens(
  text: string,
  task: { K: number; tau: number },
  maxLength: number,
): { tokens: number[] } | { error: string } {
  const parts = text.trim().split(/[\s,]+/).filter((p) => p !== "");
  const tokens = parts.map(Number);
  const bad = parts.find((p, k) => !/^\d+$/.test(p) || tokens[k] >= task.K);
  if (bad !== undefined) return { error: `tokens are ids 0..K-1=${task.K - 1}, got "${bad}"` };
  const min = task.tau + 2;
  if (tokens.length < min || tokens.length > maxLength) {
    return { error: `a sequence has tau+2=${min} .. ${maxLength} tokens, got ${tokens.length}` };
  }
  return { tokens };
}

/**
 * The `draw`-th random sequence of `length` tokens for a seed: the first row of stream `playground:sample=<draw>`
 * (its own stream: drawing one never moves the run's train, test or evaluation streams).
 */
export function randomSequence(
  seed: number,
  draw: number,
  task: { K: number; M: number; tau: number },
  length: number,
): number[] {
  return Array.from(arBatch(substream(seed, `playground:sample=${draw}`), task, 1, length).tokens);
}
