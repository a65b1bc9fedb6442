import { createParser } from "eventsource-parser";
import type { StatusEvent } from "../status/status-event.js";
import type { StatusDocument } from "../status/status-store.js";
import { isTargetsDocument, type TargetsStatusDocument } from "../status/targets-status.js";
import { allTargetsReady, renderTargetsStatusTable, targetsStatusJson } from "./targets-status-table.js";
import { exitCodes } from "./exit-codes.js";
import type { StatusConfig } from "../config/options.js";
import { allReady, renderStatusTable, statusJson } from "./status-table.js";

/** Some manifest is not ready: distinct from 1 (the daemon could not be read) and 2 (usage). */
const notReady = 3;
/** Events come in bursts (a resync finding drift on many manifests): one reprint for a burst. */
const reprintAfterMs = 300;

class StatusReadError extends Error {}

function headers(config: StatusConfig): Record<string, string> {
  return config.statusToken === undefined ? {} : { authorization: `Bearer ${config.statusToken}` };
}

async function get(config: StatusConfig, path: string, accept: string): Promise<Response> {
  const url = new URL(path, config.url);
  let response: Response;
  try {
    response = await fetch(url, { headers: { accept, ...headers(config) } });
  } catch (error) {
    const cause = (error as { cause?: { code?: string; errors?: { code?: string }[] } }).cause;
    const code = cause?.code ?? cause?.errors?.[0]?.code ?? "unreachable";
    throw new StatusReadError(`cannot reach the daemon at ${url.origin} (${code})`);
  }
  if (response.status === 401) {
    await response.body?.cancel();
    throw new StatusReadError(
      `the daemon at ${url.origin} requires a status token (--status-token or ROLECALL_STATUS_TOKEN), or refused this one`,
    );
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw new StatusReadError(`GET ${url.pathname} at ${url.origin} answered HTTP ${response.status}`);
  }
  return response;
}

type AnyDocument = StatusDocument | TargetsStatusDocument;

async function readDocument(config: StatusConfig): Promise<AnyDocument> {
  return (await (await get(config, "/status", "application/json")).json()) as AnyDocument;
}

/** A daemon run with --targets answers with a section per target: printed per target. */
function print(config: StatusConfig, document: AnyDocument): void {
  const targets = isTargetsDocument(document);
  if (config.output === "json") {
    const json = targets ? targetsStatusJson(document) : statusJson(document);
    process.stdout.write(`${JSON.stringify(json, null, config.watch ? undefined : 2)}\n`);
  } else {
    const now = new Date();
    const text = targets ? renderTargetsStatusTable(document, now) : renderStatusTable(document, now);
    process.stdout.write(`${text}\n`);
  }
}

function ready(document: AnyDocument): boolean {
  return isTargetsDocument(document) ? allTargetsReady(document) : allReady(document);
}

/** Follows /events until the stream ends: each burst of events, its lines and the table again. */
async function watch(config: StatusConfig): Promise<void> {
  const response = await get(config, "/events", "text/event-stream");
  let timer: NodeJS.Timeout | undefined;
  const reprint = () => {
    timer = undefined;
    void readDocument(config).then(
      (document) => {
        print(config, document);
      },
      (error: unknown) => process.stderr.write(`rolecall: ${String(error)}\n`),
    );
  };
  const parser = createParser({
    onEvent: (message) => {
      if (config.output === "text") {
        const event = JSON.parse(message.data) as StatusEvent;
        process.stdout.write(`\n${event.time} ${event.text}\n`);
      }
      timer ??= setTimeout(reprint, reprintAfterMs);
    },
  });
  const decoder = new TextDecoder();
  for await (const chunk of response.body ?? [])
    parser.feed(decoder.decode(chunk as Uint8Array, { stream: true }));
  throw new StatusReadError("the daemon closed the event stream (it stopped?)");
}

export async function runStatus(config: StatusConfig): Promise<void> {
  try {
    const document = await readDocument(config);
    print(config, document);
    if (config.watch) await watch(config);
    process.exitCode = ready(document) ? exitCodes.ok : notReady;
  } catch (error) {
    if (!(error instanceof StatusReadError)) throw error;
    process.stderr.write(`rolecall: error: ${error.message}\n`);
    process.exitCode = exitCodes.failure;
  }
}
