import type { MonotonicClock } from "./clock.js";
import type { IdFactory } from "./ids.js";

/** The account's EC2 state: instances in launch order and their instance-profile associations. */
export type SimInstanceState =
  "pending" | "running" | "stopping" | "stopped" | "shutting-down" | "terminated";

/** EC2's numeric state codes (the low byte of State.Code). */
export const instanceStateCodes: Readonly<Record<SimInstanceState, number>> = {
  pending: 0,
  running: 16,
  "shutting-down": 32,
  terminated: 48,
  stopping: 64,
  stopped: 80,
};

/** An instance to launch: its ID (generated when absent), tags, and state ("running" when absent). */
export interface SimInstanceSeed {
  id?: string;
  tags?: Record<string, string>;
  state?: SimInstanceState;
}

export interface InstanceRecord {
  readonly id: string;
  readonly reservationId: string;
  /** Launch order; instances are listed (and paged) by it. */
  readonly sequence: number;
  readonly launchTime: Date;
  state: SimInstanceState;
  /** EC2 tag keys are case-sensitive. */
  tags: Map<string, string>;
}

export interface AssociationRecord {
  readonly id: string;
  readonly instanceId: string;
  readonly profileArn: string;
  readonly profileId: string;
  readonly sequence: number;
  readonly timestamp: Date;
}

const instanceIdPattern = /^i-(?:[0-9a-f]{8}|[0-9a-f]{17})$/;

export function isInstanceId(id: string): boolean {
  return instanceIdPattern.test(id);
}

export class Ec2Store {
  readonly instances = new Map<string, InstanceRecord>();
  /** By association ID; at most one per instance. */
  readonly associations = new Map<string, AssociationRecord>();
  private sequence = 0;

  constructor(
    readonly accountId: string,
    private readonly ids: IdFactory,
    private readonly clock: MonotonicClock,
  ) {}

  nextSequence(): number {
    this.sequence += 1;
    return this.sequence;
  }

  launch(seed: SimInstanceSeed): string {
    let id = seed.id;
    if (id !== undefined) {
      if (!isInstanceId(id))
        throw new Error(`invalid instance ID "${id}": expected "i-" and 8 or 17 lowercase hex digits`);
      if (this.instances.has(id)) throw new Error(`instance ${id} already exists`);
    } else {
      do id = this.ids.hex17("i-");
      while (this.instances.has(id));
    }
    const state = seed.state ?? "running";
    if (!(state in instanceStateCodes)) throw new Error(`unknown instance state "${state}"`);
    this.instances.set(id, {
      id,
      reservationId: this.ids.hex17("r-"),
      sequence: this.nextSequence(),
      launchTime: this.clock.now(),
      state,
      tags: new Map(Object.entries(seed.tags ?? {})),
    });
    return id;
  }

  instance(id: string): InstanceRecord {
    const instance = this.instances.get(id);
    if (instance === undefined) throw new Error(`no simulated instance ${id}`);
    return instance;
  }

  /** A terminated instance stays terminated and loses its association, as on EC2. */
  setState(id: string, state: SimInstanceState): void {
    const instance = this.instance(id);
    if (!(state in instanceStateCodes)) throw new Error(`unknown instance state "${state}"`);
    if (instance.state === "terminated" && state !== "terminated")
      throw new Error(`instance ${id} is terminated`);
    instance.state = state;
    if (state === "terminated") {
      const association = this.associationOf(id);
      if (association !== undefined) this.associations.delete(association.id);
    }
  }

  setTags(id: string, tags: Record<string, string>): void {
    this.instance(id).tags = new Map(Object.entries(tags));
  }

  associationOf(instanceId: string): AssociationRecord | undefined {
    for (const association of this.associations.values())
      if (association.instanceId === instanceId) return association;
    return undefined;
  }

  newAssociation(instanceId: string, profile: { arn: string; id: string }): AssociationRecord {
    const association: AssociationRecord = {
      id: this.ids.hex17("iip-assoc-"),
      instanceId,
      profileArn: profile.arn,
      profileId: profile.id,
      sequence: this.nextSequence(),
      timestamp: this.clock.now(),
    };
    this.associations.set(association.id, association);
    return association;
  }
}
