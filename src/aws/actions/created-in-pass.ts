/** Names created during the current pass, so calls that use them wait out IAM propagation. */
export class CreatedInPass {
  private readonly names = new Set<string>();

  add(kind: "policy" | "role" | "instanceProfile", name: string): void {
    this.names.add(`${kind}:${name.toLowerCase()}`);
  }

  has(kind: "policy" | "role" | "instanceProfile", name: string): boolean {
    return this.names.has(`${kind}:${name.toLowerCase()}`);
  }
}
