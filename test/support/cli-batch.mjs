// Runs the built CLI (dist/cli.js) once per argument list, all in this one process, and prints a JSON array of
// { args, code, stdout, stderr }. Each run imports a fresh instance of dist/cli.js (its dependencies stay loaded),
// so a corpus of files can each get its own `rolecall validate FILE` without paying Node's and the AWS SDK's
// start-up once per file. Usage: node cli-batch.mjs DIST_CLI_JS ARGS_JSON
import { fileURLToPath, pathToFileURL } from "node:url";

const [cliFile, argsJson] = process.argv.slice(2);
if (cliFile === undefined || argsJson === undefined)
  throw new Error("usage: cli-batch.mjs DIST_CLI_JS ARGS_JSON");
const cliUrl = pathToFileURL(cliFile).href;
const runs = JSON.parse(argsJson);
const node = process.argv[0];
const write = { stdout: process.stdout.write, stderr: process.stderr.write };
const results = [];

for (const [index, args] of runs.entries()) {
  const captured = { stdout: "", stderr: "" };
  for (const stream of ["stdout", "stderr"]) {
    process[stream].write = (chunk, encoding, callback) => {
      captured[stream] += typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8");
      const done = typeof encoding === "function" ? encoding : callback;
      if (typeof done === "function") done();
      return true;
    };
  }
  process.argv = [node, fileURLToPath(cliUrl), ...args];
  process.exitCode = undefined;
  try {
    await import(`${cliUrl}?run=${index}`);
  } finally {
    process.stdout.write = write.stdout;
    process.stderr.write = write.stderr;
  }
  results.push({ args, code: process.exitCode ?? 0, ...captured });
}
process.exitCode = 0;
process.stdout.write(JSON.stringify(results));
