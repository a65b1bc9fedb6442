/** A status condition in the shape of Kubernetes' metav1.Condition. */
export interface Condition {
  readonly type: ConditionType;
  readonly status: "True" | "False" | "Unknown";
  /** CamelCase, machine-readable. */
  readonly reason: string;
  /** Prose for humans. */
  readonly message: string;
  /** When `status` last changed (ISO 8601). */
  readonly lastTransitionTime: string;
  /** The manifest generation the condition was computed for. */
  readonly observedGeneration: string;
}

export type ConditionType = "Valid" | "Synced" | "Ready" | "Drifted" | "Conflict";

export type ConditionInput = Omit<Condition, "lastTransitionTime">;

/** Sets conditions, keeping lastTransitionTime unless the status flips, as Kubernetes' meta.SetStatusCondition does. */
export function setConditions(
  previous: readonly Condition[],
  next: readonly ConditionInput[],
  now: string,
): Condition[] {
  return next.map((condition) => {
    const before = previous.find((candidate) => candidate.type === condition.type);
    const lastTransitionTime =
      before !== undefined && before.status === condition.status ? before.lastTransitionTime : now;
    return { ...condition, lastTransitionTime };
  });
}
