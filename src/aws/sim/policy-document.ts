import { iamError } from "./errors.js";

/**
 * Policy documents as IAM checks and returns them: the text is kept as sent and returned URL-encoded; it must be
 * JSON with well-formed statements; permission policies may not name a Principal, trust policies must; sizes are
 * counted without white space against IAM's quotas.
 */
export type DocumentKind = "managed" | "inline" | "trust";

/** Managed policy: 6,144 characters; trust policy: 2,048 (the default ACLSizePerRole quota). */
const sizeQuota: Record<Exclude<DocumentKind, "inline">, { quota: string; limit: number }> = {
  managed: { quota: "PolicySize", limit: 6144 },
  trust: { quota: "ACLSizePerRole", limit: 2048 },
};

/** Inline role policies: 10,240 characters for all of a role's inline policies together. */
export const inlinePolicySizeLimit = 10240;

export function encodeDocument(text: string): string {
  return encodeURIComponent(text);
}

/** Characters IAM counts against size quotas: all but white space. */
export function documentSize(text: string): number {
  return text.replace(/\s/g, "").length;
}

export function validateDocument(text: string | undefined, kind: DocumentKind): string {
  if (text === undefined || text === "") {
    throw iamError(
      "ValidationError",
      `1 validation error detected: Value null at '${kind === "trust" ? "assumeRolePolicyDocument" : "policyDocument"}' failed to satisfy constraint: Member must not be null`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw malformed("Syntax errors in policy.");
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed))
    throw malformed("Syntax errors in policy.");
  const { Version, Statement } = parsed as { Version?: unknown; Statement?: unknown };
  if (Version !== undefined && Version !== "2012-10-17" && Version !== "2008-10-17") {
    throw malformed("The policy failed legacy parsing");
  }
  if (Statement === undefined) throw malformed("Missing required field Statement");
  const statements = Array.isArray(Statement) ? (Statement as unknown[]) : [Statement];
  if (statements.length === 0) throw malformed("Syntax errors in policy.");
  for (const statement of statements) validateStatement(statement, kind);
  if (kind !== "inline") {
    const { quota, limit } = sizeQuota[kind];
    if (documentSize(text) > limit)
      throw iamError("LimitExceeded", `Cannot exceed quota for ${quota}: ${limit}`);
  }
  return text;
}

function validateStatement(statement: unknown, kind: DocumentKind): void {
  if (statement === null || typeof statement !== "object" || Array.isArray(statement)) {
    throw malformed("Syntax errors in policy.");
  }
  const fields = statement as Record<string, unknown>;
  if (fields["Effect"] !== "Allow" && fields["Effect"] !== "Deny")
    throw malformed("Missing required field Effect");
  if (fields["Action"] === undefined && fields["NotAction"] === undefined)
    throw malformed("Missing required field Action");
  const hasPrincipal = fields["Principal"] !== undefined || fields["NotPrincipal"] !== undefined;
  if (kind === "trust") {
    if (!hasPrincipal) throw malformed("Missing required field Principal");
    if (fields["Resource"] !== undefined || fields["NotResource"] !== undefined)
      throw malformed("Has prohibited field Resource");
  } else {
    if (hasPrincipal) throw malformed("Policy document should not specify a principal.");
    if (fields["Resource"] === undefined && fields["NotResource"] === undefined) {
      throw malformed("Policy statement must contain resources.");
    }
  }
}

function malformed(message: string): Error {
  return iamError("MalformedPolicyDocument", message);
}
