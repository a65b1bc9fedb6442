/** A moto_server of this test file's (or benchmark's) own, on a free loopback port. */
export interface Moto {
  readonly endpoint: string;
  readonly port: number;
  /** Clears every IAM and EC2 resource (POST /moto-api/reset). */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

/** A free TCP port on the loopback interface. */
export function freePort(): Promise<number>;

/** Starts moto_server and waits until it answers; fails loudly (never skips) when it is not installed. */
export function startMoto(): Promise<Moto>;
