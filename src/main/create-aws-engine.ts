import { AwsActionExecutor } from "../aws/aws-action-executor.js";
import { connectToAws } from "../aws/aws-clients.js";
import type { CallObserver } from "../aws/call-observer.js";
import { Engine } from "../engine/engine.js";
import type { Logger } from "../observability/logger.js";
import { awsSettingsFrom, type EngineCliOptions } from "../commands/engine-setup.js";

/** Connects to AWS through the standard credential chain and builds the engine. */
export async function createAwsEngine(
  options: EngineCliOptions,
  observer: CallObserver,
  logger: Logger,
): Promise<Engine> {
  const aws = await connectToAws(awsSettingsFrom(options), observer, logger.child({ component: "aws" }));
  return new Engine(aws.iam, aws.ec2, new AwsActionExecutor(aws.iam, aws.ec2), {
    iamPath: options.iamPath,
    partition: aws.partition,
    defaultMode: options.mode,
    allowMassPrune: options.allowMassPrune,
    concurrency: options.concurrency,
    readStrategy: options.readStrategy,
  });
}
