import v8 from "node:v8";
import { runInNewContext } from "node:vm";

// A new context created after the flag is set has `gc`; the test worker itself was started without it.
v8.setFlagsFromString("--expose-gc");
const collect = runInNewContext("gc") as () => void;

/** The bytes of V8 heap in use once a full collection has run: what is still reachable. */
export function heapUsedAfterGc(): number {
  collect();
  collect();
  return process.memoryUsage().heapUsed;
}
