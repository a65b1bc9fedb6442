/**
 * A service is a table of operation handlers keyed by SDK operation name ("CreateRole"). A handler runs
 * synchronously against the in-memory state, so every call is atomic, and returns the output without $metadata.
 */
export type Handler = (input: unknown) => object;

export type HandlerTable = Readonly<Record<string, Handler>>;

/** Types a handler by the SDK request shape; every field is treated as possibly absent, as on the wire. */
export function handler<Input>(run: (input: Partial<Input>) => object): Handler {
  return (input) => run(input ?? {});
}
