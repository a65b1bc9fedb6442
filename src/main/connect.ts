import type { Ec2Caller } from "../aws/region-router.js";
import { AwsActionExecutor } from "../aws/aws-action-executor.js";
import type { AwsCaller } from "../aws/aws-caller.js";
import { connectToAws, createCallers } from "../aws/aws-clients.js";
import { defaultAwsSettings, type AwsSettings } from "../aws/aws-settings.js";
import type { CallObserver } from "../aws/call-observer.js";
import type { EngineConfig, RunConfig } from "../config/options.js";
import { Engine } from "../engine/engine.js";
import { freshRead } from "../engine/state-source.js";
import type { Logger } from "../observability/logger.js";

/** What a command or the daemon talks to: one caller per service, and the partition ARNs are built in. */
export interface Cloud {
  readonly iam: AwsCaller;
  readonly ec2: Ec2Caller;
  readonly partition: string;
  /** The region EC2 is read in (instance events from other regions are not this daemon's). */
  readonly region: string;
}

export function awsSettingsFrom(config: EngineConfig): AwsSettings {
  return {
    ...defaultAwsSettings,
    requestTimeoutMs: config.requestTimeout,
    rateLimits: {
      iam: { perSecond: config.iamRate, burst: Math.max(1, Math.ceil(config.iamRate * 2)) },
      ec2: { perSecond: config.ec2Rate, burst: Math.max(1, Math.ceil(config.ec2Rate * 2)) },
    },
    retry: { ...defaultAwsSettings.retry, propagationBudgetMs: config.propagationTimeout },
  };
}

/** AWS through the standard credential chain, or (run --cloud sim) the in-process simulated account. */
export async function connect(
  config: EngineConfig & Partial<Pick<RunConfig, "cloud" | "simDriftEvery">>,
  observer: CallObserver,
  logger: Logger,
): Promise<Cloud> {
  const settings = awsSettingsFrom(config);
  if (config.cloud === "sim") {
    const { SimCloud, demoInstances } = await import("../aws/sim/sim-cloud.js");
    const sim = new SimCloud({ instances: demoInstances(), latencyMs: 5 });
    logger.warn("using the simulated cloud (--cloud sim): nothing here touches AWS");
    if ((config.simDriftEvery ?? 0) > 0) {
      const { startDemoDrift } = await import("../aws/sim/demo-drift.js");
      startDemoDrift(sim, config.simDriftEvery ?? 0, logger.child({ component: "sim" }));
    }
    return {
      ...createCallers(sim, settings, observer, logger.child({ component: "aws" })),
      partition: "aws",
      region: "us-east-1",
    };
  }
  const aws = await connectToAws(settings, observer, logger.child({ component: "aws" }));
  return { iam: aws.iam, ec2: aws.ec2, partition: aws.partition, region: aws.region };
}

/** The engine over a cloud, as plan, apply and the daemon use it. */
export function createEngine(cloud: Omit<Cloud, "region">, config: EngineConfig): Engine {
  return new Engine(
    new AwsActionExecutor(cloud.iam, cloud.ec2),
    freshRead(
      { iam: cloud.iam, ec2: cloud.ec2, concurrency: config.concurrency },
      { iamPath: config.iamPath, partition: cloud.partition },
      config.readStrategy,
    ),
    {
      iamPath: config.iamPath,
      defaultMode: config.mode,
      allowMassPrune: config.allowMassPrune,
      concurrency: config.concurrency,
      maxPoliciesPerRole: config.maxPoliciesPerRole,
    },
  );
}
