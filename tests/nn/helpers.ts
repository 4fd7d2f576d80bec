// Comparisons shared by the tests/nn suites.
import type { Tensor } from "nbforge";

/** The largest absolute difference between two same-shape tensors (in float64). */
export function maxAbsDiff(a: Tensor, b: Tensor): number {
  const x = a.to("float64").data() as Float64Array;
  const y = b.to("float64").data() as Float64Array;
  if (x.length !== y.length) throw new RangeError(`maxAbsDiff: ${x.length} vs ${y.length} elements`);
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i] - y[i]));
  return m;
}
