/**
 * The random streams against values printed by real numpy 1.24.2 (Debian python3-numpy), legacy RandomState:
 * u32 via `randint(0, 2**32, dtype=np.uint32)`, doubles via `random_sample`, Gaussians via `randn`, integers via
 * scalar `randint(n)`. Python is not needed at test time: the values are literals.
 */

import assert from "node:assert/strict";
import { mt19937, substream, substreamSeed } from "../lib/task/random.ts";

function draws(count: number, next: () => number): number[] {
  return Array.from({ length: count }, next);
}

Deno.test("mt19937(5489) gives the reference MT19937 outputs", () => {
  const rng = mt19937(5489);
  assert.deepEqual(draws(3, () => rng.u32()), [3499211612, 581869302, 3890346734]);
});

Deno.test("mt19937(0) matches numpy's raw 32-bit outputs, including past the first and second twist", () => {
  const expected = new Map<number, number>([
    [0, 2357136044],
    [1, 2546248239],
    [2, 3071714933],
    [3, 3626093760],
    [4, 2588848963],
    [5, 3684848379],
    [6, 2340255427],
    [7, 3638918503],
    [622, 631131020],
    [623, 3791854820],
    [624, 341544762],
    [625, 1076416385],
    [626, 384842097],
    [1247, 1145454359],
    [1248, 4192857288],
    [1249, 2422637952],
    [1999, 3856691381],
  ]);
  const rng = mt19937(0);
  const all = draws(2000, () => rng.u32());
  for (const [index, value] of expected) assert.equal(all[index], value, `u32 #${index}`);
});

Deno.test("mt19937() matches numpy for other seeds, including the largest 32-bit seed", () => {
  const a = mt19937(12345);
  assert.deepEqual(draws(4, () => a.u32()), [3992670690, 3823185381, 1358822685, 561383553]);
  const b = mt19937(4294967295);
  assert.deepEqual(draws(4, () => b.u32()), [419326371, 479346978, 3918654476, 2416749639]);
});

Deno.test("double() equals numpy random_sample bit for bit", () => {
  const rng = mt19937(0);
  assert.deepEqual(draws(8, () => rng.double()), [
    0.5488135039273248,
    0.7151893663724195,
    0.6027633760716439,
    0.5448831829968969,
    0.4236547993389047,
    0.6458941130666561,
    0.4375872112626925,
    0.8917730007820798,
  ]);
});

Deno.test("gaussian() equals numpy legacy randn after seed(0), early and after 1000 draws", () => {
  const rng = mt19937(0);
  const values = draws(1000, () => rng.gaussian());
  const first = [
    1.764052345967664,
    0.4001572083672233,
    0.9787379841057392,
    2.240893199201458,
    1.8675579901499675,
    -0.977277879876411,
    0.9500884175255894,
    -0.1513572082976979,
  ];
  const late = new Map<number, number>([
    [499, -0.07785475594085076],
    [500, 0.38273243001226814],
    [998, -1.1476109448431353],
    [999, -0.35811407547985674],
  ]);
  first.forEach((value, index) => assert.ok(Math.abs(values[index] - value) <= 1e-15, `randn #${index}`));
  for (const [index, value] of late) assert.ok(Math.abs(values[index] - value) <= 1e-15, `randn #${index}`);
  assert.deepEqual(values.slice(0, 8), first, "the first eight are bit-identical");
});

Deno.test("gaussian() keeps its cached second value across double() calls, as numpy does", () => {
  // numpy: seed(7); randn(), random_sample(), randn(), randn()
  const rng = mt19937(7);
  const got = [rng.gaussian(), rng.double(), rng.gaussian(), rng.gaussian()];
  const want = [1.690525703800356, 0.9779895119966027, -0.4659373705408328, 0.09316606097975175];
  got.forEach((value, index) => assert.ok(Math.abs(value - want[index]) <= 1e-15, `draw #${index}`));
});

Deno.test("int(n) equals numpy legacy randint(n), including n = 1 which draws nothing", () => {
  const sizes = [16, 1, 5, 37, 16, 3, 1000, 2, 7, 100000, 16, 31, 33, 64, 65, 1];
  const want = [
    [12, 0, 0, 3, 11, 1, 723, 1, 2, 80471, 6, 24, 24, 12, 58, 0],
    [1, 0, 0, 17, 5, 1, 845, 0, 1, 38804, 3, 16, 5, 62, 47, 0],
    [0, 0, 2, 35, 8, 1, 755, 1, 3, 68755, 14, 7, 32, 1, 9, 0],
    [9, 0, 0, 31, 10, 0, 151, 1, 6, 11723, 2, 23, 28, 34, 0, 0],
  ].flat();
  const rng = mt19937(0);
  const got = [0, 1, 2, 3].flatMap(() => sizes.map((n) => rng.int(n)));
  assert.deepEqual(got, want);
  assert.equal(rng.u32(), 80701568, "the stream position after the randint calls matches numpy too");
});

Deno.test("int(n) stays in range and rejects invalid n", () => {
  const rng = mt19937(3);
  for (let k = 0; k < 2000; k++) {
    const value = rng.int(13);
    assert.ok(Number.isInteger(value) && value >= 0 && value < 13);
  }
  assert.throws(() => rng.int(0), /int\(n\)/);
  assert.throws(() => rng.int(2.5), /int\(n\)/);
});

Deno.test("mt19937() rejects seeds that are not 32-bit unsigned integers", () => {
  assert.throws(() => mt19937(-1), /seed/);
  assert.throws(() => mt19937(2 ** 32), /seed/);
  assert.throws(() => mt19937(1.5), /seed/);
});

Deno.test("substreamSeed() is FNV-1a over the seed's 4 LE bytes and the name's UTF-8, then fmix32", () => {
  // Values from an independent Python implementation of the same definition.
  assert.equal(substreamSeed(0, "train"), 1750047236);
  assert.equal(substreamSeed(0, "test"), 2247151226);
  assert.equal(substreamSeed(1, "train"), 515240208);
  assert.equal(substreamSeed(42, "eval:L=37"), 407862631);
  assert.equal(substreamSeed(4294967295, "init"), 3218923927);
  assert.equal(substreamSeed(0, ""), 1234692987);
});

Deno.test("substream() repeats for the same (seed, name) and differs across names and seeds", () => {
  const take = (seed: number, name: string): number[] => {
    const rng = substream(seed, name);
    return draws(8, () => rng.u32());
  };
  assert.deepEqual(take(5, "train"), take(5, "train"));
  assert.notDeepEqual(take(5, "train"), take(5, "test"));
  assert.notDeepEqual(take(5, "train"), take(6, "train"));
  assert.notDeepEqual(take(5, "eval:L=37"), take(5, "eval:L=38"));
  const first = substream(5, "train");
  const direct = mt19937(substreamSeed(5, "train"));
  assert.deepEqual(draws(4, () => first.u32()), draws(4, () => direct.u32()));
});
