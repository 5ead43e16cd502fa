/**
 * Which BLAS the PyTorch peer (shared/peers/torch) runs on, and with how many threads. Debian's torch links
 * `libblas.so.3`, which is the slow reference BLAS unless OpenBLAS is put first on LD_LIBRARY_PATH (as
 * shared/peers/torch/bench.sh does when libopenblas0-pthread is installed); a comparison against the reference
 * BLAS flatters us several-fold, so the benchmark detects the library actually loaded instead of assuming it.
 */

/** Where OpenBLAS's pthread build puts its libblas.so.3 on Debian (x86-64). */
export const OPENBLAS_DIR = "/usr/lib/x86_64-linux-gnu/openblas-pthread";

/** The environment the peer runs in: OpenBLAS first when it is installed, one BLAS thread. */
export async function peerEnv(openblasDir: string = OPENBLAS_DIR): Promise<Record<string, string>> {
  const env: Record<string, string> = { OPENBLAS_NUM_THREADS: "1" };
  try {
    await Deno.stat(openblasDir);
    env.LD_LIBRARY_PATH = openblasDir;
  } catch { /* not installed: the peer gets whatever libblas.so.3 the system has */ }
  return env;
}

/** The BLAS family a library path names. */
export type BlasKind = "openblas" | "mkl" | "reference" | "unknown";

/** What the peer's python process had loaded after one matrix product. */
export interface PeerBlas {
  readonly kind: BlasKind;
  /** BLAS-like shared libraries mapped into the process (/proc/self/maps). */
  readonly libraries: readonly string[];
  /** torch.get_num_threads() after the peer's torch.set_num_threads(1). */
  readonly torchThreads: number;
  /** openblas_get_num_threads() when the library is OpenBLAS, else null. */
  readonly blasThreads: number | null;
  /** The python that was asked. */
  readonly python: string;
}

/** Classify the mapped libraries: OpenBLAS or MKL when either is mapped, else the reference BLAS if libblas is. */
export function blasKindOf(libraries: readonly string[]): BlasKind {
  const lower = libraries.map((l) => l.toLowerCase());
  if (lower.some((l) => l.includes("openblas"))) return "openblas";
  if (lower.some((l) => l.includes("mkl"))) return "mkl";
  if (lower.some((l) => /\/libblas\.so|\/libcblas\.so|\/blas\//.test(l))) return "reference";
  return "unknown";
}

/** The python the detection runs: one product through torch, then what /proc/self/maps says. */
const SNIPPET = `
import json, ctypes, torch
torch.set_num_threads(1)
a = torch.randn(64, 64)
(a @ a).sum().item()
libs = sorted({l.split()[-1] for l in open('/proc/self/maps') if '/' in l and ('blas' in l.lower() or 'mkl' in l.lower())})
blas_threads = None
for lib in libs:
    try:
        blas_threads = int(ctypes.CDLL(lib).openblas_get_num_threads())
        break
    except Exception:
        pass
print(json.dumps({"libraries": libs, "torchThreads": torch.get_num_threads(), "blasThreads": blas_threads}))
`;

/** Run `python` (the peer's interpreter) with the peer's environment and report its BLAS; throws on failure. */
export async function detectPeerBlas(python: string, env: Record<string, string>): Promise<PeerBlas> {
  const out = await new Deno.Command(python, { args: ["-c", SNIPPET], env, stdout: "piped", stderr: "piped" })
    .output();
  const text = new TextDecoder().decode(out.stdout).trim();
  if (!out.success) {
    const err = new TextDecoder().decode(out.stderr).trim().split("\n").at(-1) ?? "";
    throw new Error(`${python} could not report its BLAS: ${err}`);
  }
  const parsed = JSON.parse(text.split("\n").at(-1) ?? "{}") as {
    libraries?: string[];
    torchThreads?: number;
    blasThreads?: number | null;
  };
  const libraries = parsed.libraries ?? [];
  return {
    kind: blasKindOf(libraries),
    libraries,
    torchThreads: parsed.torchThreads ?? 0,
    blasThreads: parsed.blasThreads ?? null,
    python,
  };
}

/** One line for the log: "PyTorch peer BLAS: openblas (/usr/lib/.../libblas.so.3), torch threads 1, BLAS threads 1". */
export function peerBlasText(b: PeerBlas): string {
  const libs = b.libraries.length === 0 ? "no BLAS library mapped" : b.libraries.join(", ");
  const blas = b.blasThreads === null ? "" : `, BLAS threads ${b.blasThreads}`;
  return `PyTorch peer BLAS: ${b.kind} (${libs}), torch threads ${b.torchThreads}${blas}`;
}
