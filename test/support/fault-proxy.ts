import { createHash } from "node:crypto";
import {
  Agent,
  createServer,
  request as forwardRequest,
  type IncomingMessage,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";
import { isMutatingOperation } from "../../src/aws/call-observer.js";
import { mulberry32 } from "./seeded-random.mjs";

/**
 * A fault-injecting HTTP proxy between the AWS SDK and moto_server (point AWS_ENDPOINT_URL at `url`).
 *
 * For a seeded fraction of requests it injects one fault, either before forwarding (moto never sees the request)
 * or after (moto applied it, the client never sees the answer: the case that tests idempotency):
 * - throttle: IAM `Throttling` (400, IAM's XML) or EC2 `RequestLimitExceeded` (503, EC2's XML);
 * - http500: a 500 with an HTML body, as proxies and moto's own crashes send;
 * - http503: a 503 with an HTML body;
 * - drop: the connection is destroyed without an answer;
 * - delay: the answer is held until the client gives up (its request timeout must be shorter than delayMs).
 *
 * Which requests are faulted is decided by a PRNG seeded from the seed and the request's content (service,
 * action, parameters with instance and association IDs blanked, and how many identical requests came before),
 * not from arrival order: with the same seed the same logical requests are faulted again, however concurrent
 * calls interleave. Every injected fault is logged, so a failing run can be replayed from its seed.
 *
 * It also counts mutating requests (by Action=, as rolecall counts them) and can kill a process when the k-th
 * one arrives, before forwarding it or after moto applied it: the crash tests' kill points.
 */

export const faultKinds = ["throttle", "http500", "http503", "drop", "delay"] as const;
export type FaultKind = (typeof faultKinds)[number];
export type FaultPhase = "before" | "after";
export type AwsServiceName = "iam" | "ec2" | "other";

export interface InjectedFault {
  /** Position of the request among all requests the proxy received. */
  readonly request: number;
  readonly service: AwsServiceName;
  readonly action: string;
  readonly kind: FaultKind;
  readonly phase: FaultPhase;
  /** The request's parameters (form body, first 300 characters): what was faulted, for a replay. */
  readonly parameters: string;
}

export interface FaultProxyOptions {
  /** moto_server's endpoint, e.g. http://127.0.0.1:5123. */
  readonly target: string;
  readonly seed: number;
  /** Fraction of requests faulted, 0 to 1 (default 0: a plain proxy). */
  readonly rate?: number;
  /** Kinds to draw from (default: all). */
  readonly kinds?: readonly FaultKind[];
  /** Phases to draw from (default: both); throttling is always "before", as AWS throttles before acting. */
  readonly phases?: readonly FaultPhase[];
  /** How long a delay fault holds a request at most; longer than the client's request timeout. */
  readonly delayMs?: number;
}

export interface KillPoint {
  /** 1-based: the k-th mutating request counted from when the kill point was armed. */
  readonly atMutating: number;
  /** before: moto never sees that request; after: moto applies it, then the process dies. */
  readonly phase: FaultPhase;
  readonly kill: () => void;
}

export interface KillRecord {
  readonly atMutating: number;
  readonly phase: FaultPhase;
  readonly service: AwsServiceName;
  readonly action: string;
}

/** A mutating request as it reached the proxy. */
export interface MutatingArrival {
  /** performance.now() in the test process when the request arrived, before any fault or forwarding. */
  readonly at: number;
  readonly service: AwsServiceName;
  readonly action: string;
}

export interface FaultProxy {
  readonly url: string;
  readonly seed: number;
  /** Changes the fault rate from now on (0 turns injection off). */
  setRate(rate: number): void;
  /** Changes the seed from now on; with resetCounters, the next run replays as a fresh proxy with that seed. */
  setSeed(seed: number): void;
  /** How delay faults ended: the client gave up first (its timeout works) or the proxy stopped waiting. */
  delays(): { abandonedByClient: number; outwaitedByProxy: number };
  /** Every fault injected so far, in order. */
  faults(): readonly InjectedFault[];
  /** Faults injected so far, by kind (every kind present, zero when none). */
  countsByKind(): Record<FaultKind, number>;
  countsByPhase(): Record<FaultPhase, number>;
  /** Requests received, and those of them that were mutating. */
  requests(): { total: number; mutating: number; byAction: Record<string, number> };
  /** Every mutating request received, with its arrival time: when a process last changed something. */
  mutatingArrivals(): readonly MutatingArrival[];
  /** Arms a kill point; resolves with where it fired. Counting starts at zero when armed. */
  armKill(point: KillPoint): Promise<KillRecord>;
  /** Disarms a kill point that did not fire (e.g. the run finished first); returns whether one was armed. */
  disarmKill(): boolean;
  /** Forgets faults, counts and the per-content occurrence counters (not the seed or rate). */
  resetCounters(): void;
  /** One line for failure messages and logs: seed, rate and faults by kind. */
  summary(): string;
  close(): Promise<void>;
}

/** The seed of a test: FAULT_SEED from the environment when set (to replay a failure), else the given one. */
export function seedFromEnv(fallback: number): number {
  const text = process.env.FAULT_SEED;
  if (text === undefined || text.trim() === "") return fallback;
  const parsed = Number(text);
  if (!Number.isInteger(parsed)) throw new Error(`FAULT_SEED must be an integer, got "${text}"`);
  return parsed;
}

const iamThrottling = (requestId: string) =>
  `<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error>` +
  `<RequestId>${requestId}</RequestId></ErrorResponse>`;
const ec2Throttling = (requestId: string) =>
  `<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>Request limit exceeded.</Message></Error>` +
  `</Errors><RequestID>${requestId}</RequestID></Response>`;
const htmlError = (status: number, title: string) =>
  `<!doctype html>\n<html lang=en>\n<title>${status} ${title}</title>\n<h1>${title}</h1>\n` +
  `<p>The fault proxy answered for the server.</p>\n`;

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Buffer;
}

/** Which service a request is for: SigV4's credential scope names it; the API version is the fallback. */
function serviceOf(request: IncomingMessage, form: URLSearchParams): AwsServiceName {
  const authorization = request.headers.authorization ?? "";
  const scope = /Credential=[^/]+\/\d{8}\/[^/]+\/([a-z0-9-]+)\/aws4_request/.exec(authorization)?.[1];
  if (scope === "iam" || scope === "ec2") return scope;
  const version = form.get("Version");
  if (version === "2010-05-08") return "iam";
  if (version === "2016-11-15") return "ec2";
  return "other";
}

/** The parts of a request that identify it across runs: volatile IDs that moto generates are blanked. */
function contentKey(service: AwsServiceName, action: string, body: string): string {
  const stable = body
    .replace(/i-[0-9a-f]{8,17}/g, "i-*")
    .replace(/iip-assoc-[0-9a-z]+/g, "iip-assoc-*")
    .replace(/r-[0-9a-f]{8,17}/g, "r-*");
  return `${service}:${action}:${createHash("sha1").update(stable).digest("hex")}`;
}

function hash32(text: string): number {
  return createHash("sha1").update(text).digest().readUInt32LE(0);
}

export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const target = new URL(options.target);
  const kinds = options.kinds ?? faultKinds;
  if (kinds.length === 0) throw new Error("startFaultProxy: kinds must not be empty");
  const phases = options.phases ?? (["before", "after"] as const);
  if (phases.length === 0) throw new Error("startFaultProxy: phases must not be empty");
  const delayMs = options.delayMs ?? 5000;
  let rate = options.rate ?? 0;
  let seed = options.seed;
  let abandonedByClient = 0;
  let outwaitedByProxy = 0;
  const agent = new Agent({ keepAlive: true, maxSockets: 32 });

  let total = 0;
  let mutating = 0;
  let arrivals: MutatingArrival[] = [];
  const byAction = new Map<string, number>();
  const occurrences = new Map<string, number>();
  let injected: InjectedFault[] = [];
  let armed:
    { point: KillPoint; seen: number; resolve: (record: KillRecord) => void; fired: boolean } | undefined;

  /** Seeded by content: the n-th identical request gets the same verdict in every run with this seed. */
  const decide = (key: string): { kind: FaultKind; phase: FaultPhase } | undefined => {
    const occurrence = occurrences.get(key) ?? 0;
    occurrences.set(key, occurrence + 1);
    if (rate <= 0) return undefined;
    const random = mulberry32(hash32(`${seed}|${key}|${occurrence}`));
    if (random() >= rate) return undefined;
    const kind = kinds[Math.floor(random() * kinds.length)] ?? "http500";
    const phase = phases[Math.floor(random() * phases.length)] ?? "before";
    // AWS throttles a request before acting on it: a Throttling answer never follows an applied change.
    return { kind, phase: kind === "throttle" ? "before" : phase };
  };

  const forward = (request: IncomingMessage, body: Buffer): Promise<Answer> =>
    new Promise((resolve, reject) => {
      const headers: Record<string, string | string[] | undefined> = {
        ...request.headers,
        host: target.host,
      };
      delete headers.connection;
      delete headers["keep-alive"];
      const outgoing = forwardRequest(
        {
          protocol: target.protocol,
          hostname: target.hostname,
          port: target.port,
          method: request.method,
          path: request.url,
          headers,
          agent,
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on("data", (chunk: Buffer) => chunks.push(chunk));
          response.on("end", () => {
            resolve({
              status: response.statusCode ?? 502,
              headers: response.headers,
              body: Buffer.concat(chunks),
            });
          });
          response.on("error", reject);
        },
      );
      outgoing.on("error", reject);
      outgoing.end(body);
    });

  const send = (response: ServerResponse, answer: Answer) => {
    if (response.destroyed) return;
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(answer.headers)) {
      if (value === undefined) continue;
      if (["connection", "keep-alive", "transfer-encoding", "content-length"].includes(name)) continue;
      headers[name] = value;
    }
    headers["content-length"] = String(answer.body.length);
    response.writeHead(answer.status, headers);
    response.end(answer.body);
  };

  const injectedAnswer = (kind: FaultKind, service: AwsServiceName, requestNumber: number): Answer => {
    const requestId = `fault-proxy-${requestNumber}`;
    if (kind === "throttle") {
      return service === "ec2"
        ? {
            status: 503,
            headers: { "content-type": "text/xml;charset=UTF-8" },
            body: Buffer.from(ec2Throttling(requestId)),
          }
        : {
            status: 400,
            headers: { "content-type": "text/xml" },
            body: Buffer.from(iamThrottling(requestId)),
          };
    }
    if (kind === "http500")
      return {
        status: 500,
        headers: { "content-type": "text/html; charset=utf-8" },
        body: Buffer.from(htmlError(500, "Internal Server Error")),
      };
    return {
      status: 503,
      headers: { "content-type": "text/html; charset=utf-8" },
      body: Buffer.from(htmlError(503, "Service Unavailable")),
    };
  };

  /** Holds the exchange until the client gives up (closes its socket) or delayMs passes. */
  const holdUntilClientGivesUp = (request: IncomingMessage): Promise<void> =>
    new Promise((resolve) => {
      const socket = request.socket;
      if (socket.destroyed) {
        abandonedByClient += 1;
        resolve();
        return;
      }
      const done = (byClient: boolean) => {
        clearTimeout(timer);
        socket.off("close", onClose);
        if (byClient) abandonedByClient += 1;
        else outwaitedByProxy += 1;
        resolve();
      };
      const onClose = () => {
        done(true);
      };
      const timer = setTimeout(() => {
        done(false);
      }, delayMs);
      socket.once("close", onClose);
    });

  const handle = async (request: IncomingMessage, response: ServerResponse, body: Buffer): Promise<void> => {
    total += 1;
    const requestNumber = total;
    const text = body.toString("utf8");
    const form = new URLSearchParams(text);
    const action = form.get("Action") ?? `${request.method ?? "GET"} ${request.url ?? "/"}`;
    const service = serviceOf(request, form);
    byAction.set(`${service}:${action}`, (byAction.get(`${service}:${action}`) ?? 0) + 1);
    const isMutating = form.has("Action") && isMutatingOperation(action);
    if (isMutating) {
      mutating += 1;
      arrivals.push({ at: performance.now(), service, action });
    }

    // A kill point takes precedence over faults: the request that kills is forwarded or not, nothing else.
    if (isMutating && armed !== undefined && !armed.fired) {
      armed.seen += 1;
      if (armed.seen === armed.point.atMutating) {
        const current = armed;
        current.fired = true;
        const record: KillRecord = { atMutating: current.seen, phase: current.point.phase, service, action };
        if (current.point.phase === "after") await forward(request, body).catch(() => undefined);
        current.point.kill();
        request.socket.destroy();
        current.resolve(record);
        return;
      }
    }

    const fault = action.startsWith("POST /moto-api") ? undefined : decide(contentKey(service, action, text));
    if (fault === undefined) {
      send(response, await forward(request, body));
      return;
    }
    injected.push({
      request: requestNumber,
      service,
      action,
      kind: fault.kind,
      phase: fault.phase,
      parameters: text.slice(0, 300),
    });
    if (fault.phase === "after") await forward(request, body);
    switch (fault.kind) {
      case "drop":
        request.socket.destroy();
        return;
      case "delay":
        await holdUntilClientGivesUp(request);
        request.socket.destroy();
        return;
      default:
        send(response, injectedAnswer(fault.kind, service, requestNumber));
    }
  };

  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      handle(request, response, Buffer.concat(chunks)).catch((error: unknown) => {
        // moto unreachable or the client gone: answer 502 if anyone is still listening.
        if (!response.headersSent && !response.destroyed) {
          response.writeHead(502, { "content-type": "text/plain" });
          response.end(`fault proxy: ${error instanceof Error ? error.message : String(error)}`);
        }
      });
    });
    request.on("error", () => undefined);
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;

  const countsByKind = () => {
    const counts = Object.fromEntries(faultKinds.map((kind) => [kind, 0])) as Record<FaultKind, number>;
    for (const fault of injected) counts[fault.kind] += 1;
    return counts;
  };

  return {
    url: `http://127.0.0.1:${port}`,
    get seed() {
      return seed;
    },
    setRate: (value) => {
      rate = value;
    },
    setSeed: (value) => {
      seed = value;
    },
    delays: () => ({ abandonedByClient, outwaitedByProxy }),
    faults: () => [...injected],
    countsByKind,
    countsByPhase: () => ({
      before: injected.filter((fault) => fault.phase === "before").length,
      after: injected.filter((fault) => fault.phase === "after").length,
    }),
    requests: () => ({ total, mutating, byAction: Object.fromEntries([...byAction].sort()) }),
    mutatingArrivals: () => [...arrivals],
    armKill: (point) => {
      if (!Number.isInteger(point.atMutating) || point.atMutating < 1)
        throw new Error(`armKill: atMutating must be a positive integer, got ${point.atMutating}`);
      return new Promise<KillRecord>((resolve) => {
        armed = { point, seen: 0, resolve, fired: false };
      });
    },
    disarmKill: () => {
      const was = armed !== undefined && !armed.fired;
      armed = undefined;
      return was;
    },
    resetCounters: () => {
      total = 0;
      mutating = 0;
      arrivals = [];
      byAction.clear();
      occurrences.clear();
      injected = [];
      abandonedByClient = 0;
      outwaitedByProxy = 0;
    },
    summary: () => {
      const counts = countsByKind();
      const kindsText = faultKinds.map((kind) => `${kind} ${counts[kind]}`).join(", ");
      return `fault proxy seed ${seed}, rate ${rate}: ${injected.length} fault(s) in ${total} request(s) (${kindsText}); replay with FAULT_SEED=${seed}`;
    },
    close: () =>
      new Promise<void>((resolve) => {
        agent.destroy();
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}
