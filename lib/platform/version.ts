/** Recall Lab's own version, recorded in every result. Bump it when a change alters results. */
export const RECALL_LAB_VERSION = "0.1.0";
