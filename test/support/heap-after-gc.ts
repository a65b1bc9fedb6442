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

/**
 * What a fold of `body`, written in 64 KiB chunks that are strings of their own (as a stream delivers them), leaves
 * reachable: the result of one fold and the bytes kept per fold. The first folds also leave the parser's compiled
 * code and feedback behind; later ones are averaged, as the optimizing compiler may still finish in one of them.
 */
export function retainedByFold<Result>(
  body: string,
  startFold: () => { write(chunk: string): void; close(): Result },
): { result: Result; retained: number } {
  const foldInChunks = () => {
    const folding = startFold();
    for (let start = 0; start < body.length; start += 65536)
      folding.write(Buffer.from(body.slice(start, start + 65536)).toString());
    return folding.close();
  };
  foldInChunks();
  foldInChunks();
  const before = heapUsedAfterGc();
  const folds = [foldInChunks(), foldInChunks(), foldInChunks(), foldInChunks()];
  const retained = (heapUsedAfterGc() - before) / folds.length;
  return { result: folds[0] as Result, retained };
}
