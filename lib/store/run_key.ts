/**
 * A run's identity: the first 16 hex digits of SHA-256 over its settings (the user-facing config with every
 * default filled in, seed included) and the training revision. Derived values, versions, report code and
 * refactors are not hashed, so they never re-key a run; a change of any setting, or a bump of
 * TRAINING_REVISION (lib/training/revision.ts), does.
 */
import { type ExperimentConfig, resolve, settingsOf } from "../training/config.ts";
import { TRAINING_REVISION } from "../training/revision.ts";

/** JSON with object keys sorted, so equal values always serialise alike. */
export function stableJson(value: unknown): string {
  return JSON.stringify(
    value,
    (_k, v) =>
      v && typeof v === "object" && !Array.isArray(v)
        ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
        : v,
  );
}

/** The text a key hashes: the revision and the settings of `config` (validated and defaults filled). */
export function keyText(config: ExperimentConfig, revision: number = TRAINING_REVISION): string {
  return stableJson({ revision, settings: settingsOf(resolve(config)) });
}

/** The run key of `config` (any config: it is resolved first, so given and default-filled fields hash alike). */
export async function runKey(config: ExperimentConfig, revision: number = TRAINING_REVISION): Promise<string> {
  const bytes = new TextEncoder().encode(keyText(config, revision));
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest.slice(0, 8), (x) => x.toString(16).padStart(2, "0")).join("");
}
