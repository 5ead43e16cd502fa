/**
 * Slots of kernel memory that hold a taped forward pass's saved state until its backward pass (used by
 * lib/models/mamba_core.ts and lib/models/attention.ts). Slots sit at the start of a module's memory; every
 * call's scratch space starts after the last slot (`scratch()`).
 *
 * A slot is held from the forward pass until its backward pass; a model with k such layers holds k. A
 * forward pass whose backward never runs (a tape dropped by an error) frees its slot once its gradient
 * function is garbage collected (`droppedForwards`).
 */

interface Slot {
  readonly offset: number;
  readonly bytes: number;
  /** Ticket of the forward pass holding it; 0 = free. */
  holder: number;
}

/** A held slot: its byte offset, valid while the slot's holder is still `ticket`. */
export interface SlotHold {
  readonly slot: Slot;
  readonly ticket: number;
}

/** The slots of one kernel memory. */
export class SlotPool {
  readonly #slots: Slot[] = [];
  #tickets = 0;

  /** Byte offset where scratch space starts (after the last slot). */
  scratch(): number {
    const last = this.#slots[this.#slots.length - 1];
    return last ? last.offset + last.bytes : 0;
  }

  /** A free slot of at least `bytes` (the first that fits), or a new one after the last. */
  take(bytes: number): SlotHold {
    let slot = this.#slots.find((s) => s.holder === 0 && s.bytes >= bytes);
    if (!slot) {
      slot = { offset: this.scratch(), bytes, holder: 0 };
      this.#slots.push(slot);
    }
    slot.holder = ++this.#tickets;
    return { slot, ticket: slot.holder };
  }

  /** Throws if the slot no longer belongs to `hold` (a bug: slots are only freed by their holder). */
  check(hold: SlotHold): void {
    if (hold.slot.holder !== hold.ticket) throw new Error("a forward pass's saved state was freed before its backward");
  }
}

/** Free the held slot (no-op if it was freed already). */
export function releaseSlot(hold: SlotHold): void {
  if (hold.slot.holder === hold.ticket) hold.slot.holder = 0;
}

/** Frees the slot of a forward pass whose gradient function was dropped without running. */
export const droppedForwards: FinalizationRegistry<SlotHold> = new FinalizationRegistry(releaseSlot);

const slotPools = new WeakMap<WebAssembly.Memory, SlotPool>();

/** The slot pool of a kernel memory. */
export function slotPool(memory: WebAssembly.Memory): SlotPool {
  let pool = slotPools.get(memory);
  if (!pool) slotPools.set(memory, pool = new SlotPool());
  return pool;
}
