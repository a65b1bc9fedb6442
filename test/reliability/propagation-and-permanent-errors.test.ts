import { writeFile } from "node:fs/promises";
import path from "node:path";
import {
  DescribeIamInstanceProfileAssociationsCommand,
  type DescribeIamInstanceProfileAssociationsCommandOutput,
} from "@aws-sdk/client-ec2";
import { afterEach, describe, expect, it } from "vitest";
import type { CommandSender } from "../../src/aws/aws-caller.js";
import { createCallers, defaultAwsSettings, type AwsSettings } from "../../src/aws/aws-clients.js";
import { CallCounter } from "../../src/aws/call-observer.js";
import { SimCloud } from "../../src/aws/sim/sim-cloud.js";
import { Controller } from "../../src/daemon/controller.js";
import type { DesiredAccess } from "../../src/desired/desired-access.js";
import type { Engine, ManifestResult, PassResult } from "../../src/engine/engine.js";
import { createLogger } from "../../src/observability/logger.js";
import { Metrics } from "../../src/observability/metrics.js";
import { StatusStore } from "../../src/status/status-store.js";
import { desiredFor } from "../support/desired-fixtures.js";
import { manifestYaml } from "../support/drift-kit.js";
import { defaultEngineOptions, engineOver } from "../support/moto-engine.js";
import { tempDirs } from "../support/temp-dir.js";
import { VirtualClock } from "../support/virtual-clock.js";

/**
 * The engine over the simulated cloud, with a wrapper that makes chosen calls fail the way AWS does: IAM's
 * eventual consistency (a profile or role just created is "not found" for a while), and permanent refusals.
 * Time is virtual, so a two-minute propagation budget costs nothing. What must hold: propagation is waited out
 * and converges; past its bound it is reported with a bounded number of attempts; a permanent error is tried
 * once, reported on its manifest with the AWS code, and the other manifests carry on.
 */

type Service = "iam" | "ec2";

interface Injection {
  readonly service: Service;
  readonly operation: string;
  /** Which calls (by input) fail; default all of that operation. */
  readonly when?: (input: Record<string, unknown>) => boolean;
  /** How many matching calls fail before they pass through; default: all of them. */
  readonly times?: number;
  readonly error: () => Error;
}

/** An SDK-shaped service error, as the SDK throws it (name, Code, $fault, $metadata). */
function awsError(name: string, code: string, httpStatusCode: number, message: string): Error {
  return Object.assign(new Error(message), {
    name,
    Code: code,
    $fault: httpStatusCode >= 500 ? "server" : "client",
    $metadata: { httpStatusCode, attempts: 1, totalRetryDelay: 0 },
  });
}

const invalidProfileName = (profile: string) => () =>
  awsError(
    "InvalidParameterValue",
    "InvalidParameterValue",
    400,
    `Value (${profile}) for parameter iamInstanceProfile.name is invalid. Invalid IAM Instance Profile name`,
  );
const profileNotFound = (profile: string) => () =>
  awsError("NoSuchEntity", "NoSuchEntity", 404, `Instance profile ${profile} not found`);
const roleNotFound = (role: string) => () =>
  awsError("NoSuchEntityException", "NoSuchEntity", 404, `The role with name ${role} cannot be found.`);

/** Wraps the simulator's clients; records every call with the names it involves (policy, role, profile, instance). */
class FaultyCloud {
  readonly sim = new SimCloud();
  readonly calls: { service: Service; operation: string; subjects: string[] }[] = [];
  private readonly remaining: Map<Injection, number>;

  constructor(private readonly injections: readonly Injection[]) {
    this.remaining = new Map(injections.map((injection) => [injection, injection.times ?? Infinity]));
  }

  senders(): { iam: CommandSender; ec2: CommandSender } {
    return { iam: this.wrap("iam", this.sim.iam), ec2: this.wrap("ec2", this.sim.ec2) };
  }

  /** Attempts of one operation, all or those involving `subject` (a policy, role, profile or instance). */
  count(service: Service, operation: string, subject?: string): number {
    return this.calls.filter(
      (call) =>
        call.service === service &&
        call.operation === operation &&
        (subject === undefined || call.subjects.includes(subject)),
    ).length;
  }

  private wrap(service: Service, client: { send(command: object): Promise<unknown> }): CommandSender {
    return {
      send: (command: never) => {
        const operation = (command as object).constructor.name.replace(/Command$/, "");
        const input = ((command as { input?: unknown }).input ?? {}) as Record<string, unknown>;
        this.calls.push({ service, operation, subjects: subjectsOf(input) });
        for (const injection of this.injections) {
          if (injection.service !== service || injection.operation !== operation) continue;
          if (injection.when !== undefined && !injection.when(input)) continue;
          const left = this.remaining.get(injection) ?? 0;
          if (left <= 0) continue;
          this.remaining.set(injection, left - 1);
          return Promise.reject(injection.error());
        }
        return client.send(command);
      },
    };
  }
}

function subjectsOf(input: Record<string, unknown>): string[] {
  const profile = input.IamInstanceProfile as { Name?: string } | undefined;
  const arn = typeof input.PolicyArn === "string" ? input.PolicyArn.split("/").pop() : undefined;
  return [
    input.InstanceId,
    profile?.Name,
    input.InstanceProfileName,
    input.RoleName,
    input.PolicyName,
    arn,
  ].filter((value): value is string => typeof value === "string");
}

const settings: AwsSettings = {
  ...defaultAwsSettings,
  rateLimits: { iam: { perSecond: 10_000, burst: 10_000 }, ec2: { perSecond: 10_000, burst: 10_000 } },
};

interface Harness {
  readonly cloud: FaultyCloud;
  readonly engine: Engine;
  readonly clock: VirtualClock;
  readonly instances: Record<string, string[]>;
  run(manifests: readonly DesiredAccess[]): Promise<PassResult>;
  profileOf(instanceId: string): Promise<string | undefined>;
}

function harness(injections: readonly Injection[], names = ["alpha", "beta", "gamma"]): Harness {
  const cloud = new FaultyCloud(injections);
  const clock = new VirtualClock();
  const callers = createCallers(cloud.senders(), settings, new CallCounter(), undefined, clock);
  const engine = engineOver(callers, { ...defaultEngineOptions, concurrency: 3 });
  const instances: Record<string, string[]> = {};
  for (const name of names)
    instances[name] = [
      cloud.sim.launchInstance({ tags: { app: name } }),
      cloud.sim.launchInstance({ tags: { app: name } }),
    ];
  return {
    cloud,
    engine,
    clock,
    instances,
    run: (manifests) =>
      engine.run({
        manifests: { inForce: manifests, protectedNames: new Set(), unnamedInvalid: false },
        execute: true,
      }),
    profileOf: async (instanceId) => {
      const output = (await cloud.sim.ec2.send(
        new DescribeIamInstanceProfileAssociationsCommand({
          Filters: [{ Name: "instance-id", Values: [instanceId] }],
        }),
      )) as DescribeIamInstanceProfileAssociationsCommandOutput;
      return output.IamInstanceProfileAssociations?.[0]?.IamInstanceProfile?.Arn?.split("/").pop();
    },
  };
}

const manifests = (...names: string[]) => names.map((name) => desiredFor(name));
const result = (pass: PassResult, name: string): ManifestResult => {
  const found = pass.results.find((entry) => entry.manifest === name);
  if (found === undefined) throw new Error(`no result for ${name}`);
  return found;
};

async function expectConverged(h: Harness, pass: PassResult, names: readonly string[]): Promise<void> {
  for (const name of names) {
    expect(result(pass, name).status, `${name}: ${JSON.stringify(result(pass, name).errors)}`).toBe(
      "converged",
    );
    for (const instanceId of h.instances[name] ?? [])
      expect(await h.profileOf(instanceId)).toBe(`rolecall-${name}`);
  }
}

describe("IAM eventual consistency, waited out", () => {
  for (const failures of [1, 4, 9]) {
    it(`a new profile that EC2 calls invalid for its first ${failures} associate call(s) is associated; nothing else waits`, async () => {
      const h = harness([
        {
          service: "ec2",
          operation: "AssociateIamInstanceProfile",
          when: (input) => (input.IamInstanceProfile as { Name?: string }).Name === "rolecall-alpha",
          times: failures,
          error: invalidProfileName("rolecall-alpha"),
        },
      ]);
      const pass = await h.run(manifests("alpha", "beta"));
      await expectConverged(h, pass, ["alpha", "beta"]);
      // The failing calls, plus one success per instance.
      expect(h.cloud.count("ec2", "AssociateIamInstanceProfile", "rolecall-alpha")).toBe(failures + 2);
      expect(h.cloud.count("ec2", "AssociateIamInstanceProfile", "rolecall-beta")).toBe(2);
      // Waited in (virtual) time, within the propagation budget.
      expect(h.clock.now()).toBeGreaterThan(0);
      expect(h.clock.now()).toBeLessThanOrEqual(settings.retry.propagationBudgetMs);
    });
  }

  it('a new profile reported as "not found" (moto\'s wording) for a while is associated', async () => {
    const h = harness([
      {
        service: "ec2",
        operation: "AssociateIamInstanceProfile",
        times: 3,
        error: profileNotFound("rolecall-alpha"),
      },
    ]);
    const pass = await h.run(manifests("alpha"));
    await expectConverged(h, pass, ["alpha"]);
    expect(h.cloud.count("ec2", "AssociateIamInstanceProfile")).toBe(3 + 2);
  });

  it("a new role not yet usable (NoSuchEntity when added to the profile and when its policy is attached) converges", async () => {
    const h = harness([
      { service: "iam", operation: "AttachRolePolicy", times: 2, error: roleNotFound("rolecall-alpha") },
      {
        service: "iam",
        operation: "AddRoleToInstanceProfile",
        times: 3,
        error: roleNotFound("rolecall-alpha"),
      },
    ]);
    const pass = await h.run(manifests("alpha"));
    await expectConverged(h, pass, ["alpha"]);
    expect(h.cloud.count("iam", "AttachRolePolicy")).toBe(3);
    expect(h.cloud.count("iam", "AddRoleToInstanceProfile")).toBe(4);
  });

  it("propagation that never ends: reported on the manifest with the AWS code after a bounded number of attempts; the others converge", async () => {
    const h = harness([
      {
        service: "ec2",
        operation: "AssociateIamInstanceProfile",
        when: (input) => (input.IamInstanceProfile as { Name?: string }).Name === "rolecall-alpha",
        error: invalidProfileName("rolecall-alpha"),
      },
    ]);
    const pass = await h.run(manifests("alpha", "beta", "gamma"));
    const alpha = result(pass, "alpha");
    expect(alpha.status).toBe("failed");
    const failed = alpha.outcomes.filter((outcome) => outcome.status === "failed");
    expect(failed.map((outcome) => [outcome.action.kind, outcome.errorCode])).toEqual([
      ["associateInstanceProfile", "InvalidParameterValue"],
      ["associateInstanceProfile", "InvalidParameterValue"],
    ]);
    expect(alpha.errors.join("\n")).toContain("InvalidParameterValue");
    // Worth another pass later (apply's next pass, the daemon's backoff): propagation may still finish.
    expect(alpha.retryable).toBe(true);
    // Bounded: exponential waits up to maxDelayMs fill the budget in a few dozen attempts per instance.
    for (const instanceId of h.instances.alpha ?? []) {
      const attempts = h.cloud.count("ec2", "AssociateIamInstanceProfile", instanceId);
      expect(attempts).toBeGreaterThan(settings.retry.maxAttempts);
      expect(attempts).toBeLessThanOrEqual(40);
    }
    // Each instance waits at most the budget (they run one after the other within the manifest).
    expect(h.clock.now()).toBeLessThanOrEqual(2 * settings.retry.propagationBudgetMs);
    // The rest of alpha's chain is in place; only the associations are missing.
    expect(alpha.outcomes.filter((outcome) => outcome.status === "done")).toHaveLength(5);
    await expectConverged(h, pass, ["beta", "gamma"]);
  });
});

describe("permanent errors: tried once, reported with the AWS code, the other manifests carry on", () => {
  interface Case {
    readonly title: string;
    readonly service: Service;
    readonly operation: string;
    readonly code: string;
    readonly error: () => Error;
    /** The manifest changes after a clean first pass (for errors of updates). */
    readonly update?: DesiredAccess;
  }
  const alphaOnly = (input: Record<string, unknown>) => subjectsOf(input).includes("rolecall-alpha");
  const cases: Case[] = [
    {
      title: "AccessDenied on CreateRole",
      service: "iam",
      operation: "CreateRole",
      code: "AccessDenied",
      error: () =>
        awsError(
          "AccessDenied",
          "AccessDenied",
          403,
          "User: arn:aws:sts::123456789012:assumed-role/rolecall/x is not authorized to perform: iam:CreateRole",
        ),
    },
    {
      title: "MalformedPolicyDocument on CreatePolicy",
      service: "iam",
      operation: "CreatePolicy",
      code: "MalformedPolicyDocument",
      error: () =>
        awsError(
          "MalformedPolicyDocumentException",
          "MalformedPolicyDocument",
          400,
          "Syntax errors in policy.",
        ),
    },
    {
      title: "LimitExceeded (policy size) on CreatePolicy",
      service: "iam",
      operation: "CreatePolicy",
      code: "LimitExceeded",
      error: () =>
        awsError("LimitExceededException", "LimitExceeded", 409, "Cannot exceed quota for PolicySize: 6144"),
    },
    {
      title: "LimitExceeded (version count) on CreatePolicyVersion",
      service: "iam",
      operation: "CreatePolicyVersion",
      code: "LimitExceeded",
      error: () =>
        awsError(
          "LimitExceededException",
          "LimitExceeded",
          409,
          "A managed policy can have up to 5 versions. Before you create a new version, you must delete an existing version.",
        ),
      update: desiredFor("alpha", { grants: [{ bucket: "alpha-bucket", access: "read-write" }] }),
    },
  ];

  for (const testCase of cases) {
    it(`${testCase.title}: one attempt, ${testCase.code} on alpha's result, not retryable; beta and gamma converge`, async () => {
      const h = harness([
        {
          service: testCase.service,
          operation: testCase.operation,
          when: alphaOnly,
          error: testCase.error,
        },
      ]);
      if (testCase.update !== undefined) {
        await expectConverged(h, await h.run(manifests("alpha", "beta", "gamma")), [
          "alpha",
          "beta",
          "gamma",
        ]);
      }
      const before = h.cloud.count(testCase.service, testCase.operation, "rolecall-alpha");
      const pass = await h.run(
        testCase.update === undefined
          ? manifests("alpha", "beta", "gamma")
          : [testCase.update, ...manifests("beta", "gamma")],
      );
      const alpha = result(pass, "alpha");
      expect(alpha.status).toBe("failed");
      expect(alpha.retryable).toBe(false);
      const failed = alpha.outcomes.filter((outcome) => outcome.status === "failed");
      expect(failed.map((outcome) => outcome.errorCode)).toEqual([testCase.code]);
      expect(alpha.errors.join("\n")).toContain(testCase.code);
      // Not retried at all: a permanent refusal is not a reason to try again.
      expect(h.cloud.count(testCase.service, testCase.operation, "rolecall-alpha") - before).toBe(1);
      expect(h.clock.sleeps).toEqual([]);
      // alpha stopped there: what depends on the refused step was skipped, not attempted.
      expect(
        alpha.outcomes
          .slice(alpha.outcomes.indexOf(failed[0]!) + 1)
          .every((outcome) => outcome.status === "skipped"),
      ).toBe(true);
      await expectConverged(h, pass, ["beta", "gamma"]);
    });
  }

  it("NoSuchEntity on a resource that was not created in this pass (deleted behind rolecall's back): one attempt, no propagation wait, reported", async () => {
    const h = harness([
      {
        service: "iam",
        operation: "CreatePolicyVersion",
        when: alphaOnly,
        error: () =>
          awsError(
            "NoSuchEntityException",
            "NoSuchEntity",
            404,
            "Policy arn:aws:iam::123456789012:policy/rolecall/rolecall-alpha was not found.",
          ),
      },
    ]);
    await expectConverged(h, await h.run(manifests("alpha", "beta")), ["alpha", "beta"]);
    const sleptBefore = h.clock.sleeps.length;
    const pass = await h.run([
      desiredFor("alpha", { grants: [{ bucket: "alpha-bucket", access: "write" }] }),
      desiredFor("beta", { grants: [{ bucket: "beta-bucket", access: "write" }] }),
    ]);
    const alpha = result(pass, "alpha");
    expect(alpha.status).toBe("failed");
    expect(
      alpha.outcomes.filter((outcome) => outcome.status === "failed").map((outcome) => outcome.errorCode),
    ).toEqual(["NoSuchEntity"]);
    expect(h.cloud.count("iam", "CreatePolicyVersion", "rolecall-alpha")).toBe(1);
    expect(h.clock.sleeps.length).toBe(sleptBefore);
    // A later pass re-reads and decides again (the policy is gone: create it), so it may be retried, once per pass.
    expect(alpha.retryable).toBe(true);
    expect(result(pass, "beta").status).toBe("converged");
    expect(h.cloud.count("iam", "CreatePolicyVersion", "rolecall-beta")).toBe(1);
  });

  it("an EC2 refusal on one instance (UnauthorizedOperation) fails that instance only; the manifest's other instance is associated", async () => {
    let refused = "";
    const h = harness(
      [
        {
          service: "ec2",
          operation: "AssociateIamInstanceProfile",
          when: (input) => input.InstanceId === refused,
          error: () =>
            awsError(
              "UnauthorizedOperation",
              "UnauthorizedOperation",
              403,
              "You are not authorized to perform this operation.",
            ),
        },
      ],
      ["alpha"],
    );
    const [first = "", second = ""] = h.instances.alpha ?? [];
    refused = first;
    const pass = await h.run(manifests("alpha"));
    const alpha = result(pass, "alpha");
    expect(alpha.status).toBe("failed");
    expect(alpha.retryable).toBe(false);
    expect(
      alpha.outcomes.filter((outcome) => outcome.status === "failed").map((outcome) => outcome.errorCode),
    ).toEqual(["UnauthorizedOperation"]);
    expect(h.cloud.count("ec2", "AssociateIamInstanceProfile", first)).toBe(1);
    expect(await h.profileOf(first)).toBeUndefined();
    expect(await h.profileOf(second)).toBe("rolecall-alpha");
  });
});

describe("the daemon does not hot-loop on a permanent error", () => {
  const dirs = tempDirs("permanent");
  const controllers: Controller[] = [];
  afterEach(async () => {
    await Promise.all(controllers.splice(0).map((controller) => controller.stop()));
    await dirs.cleanup();
  });

  it("AccessDenied: one attempt per resync, shown on /status with its code, no retry scheduled; the others are Ready", async () => {
    const cloud = new FaultyCloud([
      {
        service: "iam",
        operation: "CreateRole",
        when: (input) => input.RoleName === "rolecall-alpha",
        error: () =>
          awsError("AccessDenied", "AccessDenied", 403, "not authorized to perform: iam:CreateRole"),
      },
    ]);
    cloud.sim.launchInstance({ tags: { app: "alpha" } });
    cloud.sim.launchInstance({ tags: { app: "beta" } });
    const { iam, ec2 } = createCallers(
      cloud.senders(),
      settings,
      new CallCounter(),
      undefined,
      new VirtualClock(),
    );
    const directory = await dirs.make();
    for (const name of ["alpha", "beta"])
      await writeFile(path.join(directory, `${name}.yaml`), manifestYaml({ name, matchTags: { app: name } }));
    const status = new StatusStore();
    const controller = new Controller({
      manifestsDirectory: directory,
      compile: { iamPath: "/rolecall/", partition: "aws", defaultMode: "enforce" },
      engine: engineOver({ iam, ec2 }, { ...defaultEngineOptions, concurrency: 2 }),
      ec2,
      status,
      metrics: new Metrics({ defaultMetrics: false }),
      logger: createLogger("silent"),
      options: { concurrency: 2, resyncMs: 3_600_000 },
    });
    controllers.push(controller);

    await controller.resync();
    await controller.idle();
    expect(cloud.count("iam", "CreateRole", "rolecall-alpha")).toBe(1);
    // Nothing waits in the queue for alpha: a permanent error waits for a change or the next resync.
    expect(controller.queueDepth()).toBe(0);
    const alpha = status.manifest("alpha");
    expect(alpha?.conditions.find((condition) => condition.type === "Ready")?.status).toBe("False");
    expect(alpha?.lastReconcile?.result).toBe("failed");
    expect(alpha?.lastReconcile?.actions.filter((action) => action.status === "failed")).toEqual([
      expect.objectContaining({ errorCode: "AccessDenied" }),
    ]);
    expect(status.manifest("beta")?.conditions.find((condition) => condition.type === "Ready")?.status).toBe(
      "True",
    );

    // The next resync tries once more, and only once.
    await controller.resync();
    await controller.idle();
    expect(cloud.count("iam", "CreateRole", "rolecall-alpha")).toBe(2);
    expect(cloud.count("iam", "CreateRole", "rolecall-beta")).toBe(1);
    expect(controller.queueDepth()).toBe(0);
  });
});
