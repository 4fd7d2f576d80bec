// Bad input to slam.solve and the manifold bindings gets an error that names it.
import { simulate } from "nbforge/dist/slam/simulate.js";
import { solve } from "nbforge/dist/slam/solve.js";
import { BlockManifold, slamNative } from "nbforge/dist/slam/stiefel.js";

test("initial: \"problem\" without VERTEX guesses says what to use instead", () => {
  const problem = simulate({ d: 2, poses: 6, landmarks: 4, initial: "none", seed: 2 });
  expect(() => solve(problem, { initial: "problem" })).toThrow(/needs VERTEX guesses .*use initial: "chordal"/);
});

test("an initial estimate of the wrong size is named", () => {
  const problem = simulate({ d: 2, poses: 6, landmarks: 4, seed: 2 });
  const wrong = { d: 2 as const, R: new Float64Array(4 * 3), t: new Float64Array(6), landmarks: new Float64Array(8) };
  expect(() => solve(problem, { initial: wrong })).toThrow(/the initial estimate has 3 rotations, the problem 6 poses/);
});

test("the native kernels check shapes and ranks", () => {
  expect(() => new BlockManifold("stiefel", 4, 3, 2)).toThrow(/St\(3, 2\) needs r >= d/);
  expect(() => new BlockManifold("sphere", 4, 3, 2)).toThrow(/for d = 2/);
  const m = new BlockManifold("stiefel", 4, 2, 3);
  expect(() => m.project(new Float64Array(m.size), new Float64Array(m.size - 1))).toThrow(/'v' has 23 values, expected 24/);
  expect(() => slamNative.slamRetract(0, new Float64Array(2 * 2 * 65), new Float64Array(2 * 2 * 65), 2, 2, 65)).toThrow(/rank r must be between 1 and 64/);
});
