/** Why dist/ under `root` must be built again, or undefined when it is newer than every source. */
export function staleReason(root: string): string | undefined;
