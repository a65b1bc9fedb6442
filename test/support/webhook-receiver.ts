import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** What the receiver does with a request: answer with a status, or never answer (hang). */
export type Behaviour = number | "hang";

/** An HTTP server on a free loopback port that records what is POSTed to it. */
export interface WebhookReceiver {
  /** Its URL, with a secret path and query as an incoming webhook has. */
  readonly url: string;
  readonly bodies: unknown[];
  /** How many requests arrived (answered or not). */
  requests(): number;
  /** Sets the answers to the next requests, in order; after them, 200. */
  answer(...behaviours: Behaviour[]): void;
  close(): Promise<void>;
}

export async function startReceiver(secret = "T000/B000/s3cr3tT0ken"): Promise<WebhookReceiver> {
  const bodies: unknown[] = [];
  const queued: Behaviour[] = [];
  const hanging: ServerResponse[] = [];
  let requests = 0;
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    requests += 1;
    const behaviour = queued.shift() ?? 200;
    let text = "";
    request.on("data", (chunk: Buffer) => (text += chunk.toString()));
    request.on("end", () => {
      if (behaviour === "hang") {
        hanging.push(response);
        return;
      }
      if (behaviour >= 200 && behaviour < 300) bodies.push(JSON.parse(text));
      response.writeHead(behaviour).end("ok");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://user:pass@127.0.0.1:${port}/services/${secret}?token=q${secret}`,
    bodies,
    requests: () => requests,
    answer: (...behaviours) => queued.push(...behaviours),
    close: async () => {
      for (const response of hanging) response.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) =>
        server.close(() => {
          resolve();
        }),
      );
    },
  };
}
