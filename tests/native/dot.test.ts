// The native dot product against a plain JavaScript reference on seeded random data.
import { readFileSync } from "node:fs";
import native, { dot, hasAvx2, version } from "@nbforge/native";
import { seededRandom } from "../support/seeded-random.js";


function randomVector(length: number, random: () => number): Float64Array {
  return Float64Array.from({ length }, () => random() * 2 - 1);
}

function referenceDot(a: Float64Array, b: Float64Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i] * b[i];
  return sum;
}

// Summation order differs between kernels; bound the error by the sum of |a_i b_i|.
function tolerance(a: Float64Array, b: Float64Array): number {
  let magnitude = 0;
  for (let i = 0; i < a.length; i++) magnitude += Math.abs(a[i] * b[i]);
  return 4 * a.length * Number.EPSILON * magnitude + Number.MIN_VALUE;
}

describe("@nbforge/native", () => {
  test("version matches the package version", () => {
    const manifest = JSON.parse(readFileSync(new URL("../../../native/package.json", import.meta.url), "utf8")) as { version: string };
    expect(version()).toBe(manifest.version);
    expect(native.version()).toBe(manifest.version);
  });

  test("hasAvx2 answers a boolean", () => {
    expect(typeof hasAvx2()).toBe("boolean");
  });

  // Lengths around the 4- and 8-wide unrolled loops exercise every tail path.
  test.each([0, 1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 1000, 100003])("dot matches the JS reference, length %i", (length) => {
    const random = seededRandom(length + 1);
    const a = randomVector(length, random);
    const b = randomVector(length, random);
    expect(Math.abs(dot(a, b) - referenceDot(a, b))).toBeLessThanOrEqual(tolerance(a, b));
  });

  test("dot reads subarray views at their offset", () => {
    const random = seededRandom(42);
    const backing = randomVector(64, random);
    const a = backing.subarray(3, 30);
    const b = backing.subarray(31, 58);
    expect(Math.abs(dot(a, b) - referenceDot(a, b))).toBeLessThanOrEqual(tolerance(a, b));
  });

  test("dot is exact on small integers", () => {
    expect(dot(Float64Array.of(1, 2, 3), Float64Array.of(4, 5, 6))).toBe(32);
  });

  test("dot rejects arrays of other types and unequal lengths", () => {
    const bad = [1, 2, 3] as unknown as Float64Array;
    expect(() => dot(bad, Float64Array.of(1, 2, 3))).toThrow(/argument 'a' must be a Float64Array/);
    // The addon's errors come from Node's main realm, not jest's sandbox, so match by name and message.
    expect(() => dot(Float64Array.of(1), new Float32Array(1) as unknown as Float64Array)).toThrow(
      expect.objectContaining({ name: "TypeError", message: expect.stringMatching(/argument 'b'/) }),
    );
    expect(() => dot(Float64Array.of(1, 2), Float64Array.of(1))).toThrow(/same length/);
  });
});
