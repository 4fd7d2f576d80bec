// Clock-based throttling for loops that may never yield to the event loop:
// timers cannot fire inside a synchronous training loop, so each call asks
// "has the interval passed?" against a monotonic clock instead.
import { performance } from "node:perf_hooks";

export class Throttle {
  private last = -Infinity;

  constructor(private readonly intervalMs: number, private readonly now: () => number = () => performance.now()) {}

  /** True (and restarts the interval) when at least intervalMs passed since the last true. */
  ready(): boolean {
    const t = this.now();
    if (t - this.last < this.intervalMs) return false;
    this.last = t;
    return true;
  }

  /** Marks an out-of-band emission (e.g. a final flush) as the last one. */
  touch(): void {
    this.last = this.now();
  }
}
