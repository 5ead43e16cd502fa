/**
 * Every kind of sequence mixer, by name: the one place a model's mixer list (`config.mixers`, from the model
 * table) is turned into layers. The record must cover exactly `MixerKind` (model_table.ts), so a model row can only
 * name a mixer that exists here; adding a kind is one file, one row below and its name in that union.
 *
 * Glossary: b batch, l length, d model dim.
 */
import type { MixerFactory } from "./mixer.ts";
import type { MixerKind } from "./model_table.ts";
import { ATTENTION_WEIGHTS, attentionMixer } from "./attention_mixer.ts";
import { MAMBA_WEIGHTS, mambaMixer } from "./mamba_mixer.ts";

/** Each mixer kind: its parameter-name scope, the function that builds it and the table of its weights. */
export const MIXERS = {
  attention: { scope: "attn", build: attentionMixer, weights: ATTENTION_WEIGHTS },
  mamba: { scope: "mamba", build: mambaMixer, weights: MAMBA_WEIGHTS },
} as const satisfies Record<MixerKind, MixerFactory>;

export type { MixerKind };

/** Every mixer kind, in the record's order. */
export const MIXER_KINDS: readonly MixerKind[] = Object.keys(MIXERS) as MixerKind[];

/** The factory of `kind`; throws for a name that is not a mixer kind (e.g. from a hand-edited results file). */
export function mixerFactory(kind: MixerKind): MixerFactory {
  if (!Object.hasOwn(MIXERS, kind)) {
    throw new Error(`unknown mixer kind ${String(kind)} (known: ${MIXER_KINDS.join(", ")})`);
  }
  return MIXERS[kind];
}
