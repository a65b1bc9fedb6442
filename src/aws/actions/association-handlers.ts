import type {
  AssociateIamInstanceProfileCommandOutput,
  IamInstanceProfileAssociation,
  ReplaceIamInstanceProfileAssociationCommandOutput,
} from "@aws-sdk/client-ec2";
import {
  AssociateIamInstanceProfileCommand,
  DisassociateIamInstanceProfileCommand,
  ReplaceIamInstanceProfileAssociationCommand,
} from "../sdk/client-ec2.js";
import { iamNameKey } from "../../desired/iam-names.js";
import { profileNamed } from "../../observed/snapshot-lookup.js";
import { nameFromArn } from "../../observed/snapshot.js";
import type { ActionResponse } from "../../plan/apply-action.js";
import { label } from "../../plan/labels.js";
import { describeAssociations } from "../ec2-read.js";
import type { HandlerContext, HandlerGroup } from "./handler.js";
import { ignoreNotFound, isConflict, isNotFound } from "./recovery.js";

type AssociationKind =
  "associateInstanceProfile" | "replaceInstanceProfileAssociation" | "disassociateInstanceProfile";

export const associationHandlers: HandlerGroup<AssociationKind> = {
  associateInstanceProfile: (action, context) => associate(action.instanceId, action.profileName, context),

  async replaceInstanceProfileAssociation(action, context) {
    try {
      const output = await context.ec2.send<ReplaceIamInstanceProfileAssociationCommandOutput>(
        new ReplaceIamInstanceProfileAssociationCommand({
          AssociationId: action.associationId,
          IamInstanceProfile: { Name: action.profileName },
        }),
        {
          resource: label.instance(action.instanceId),
          dependsOnNewResource: context.created.has("instanceProfile", action.profileName),
        },
      );
      return associated(
        output.IamInstanceProfileAssociation,
        action.instanceId,
        action.profileName,
        context,
        action.associationId,
      );
    } catch (error) {
      // The old association is gone meanwhile: a plain association finishes the job.
      if (!isNotFound(error)) throw error;
      return associate(action.instanceId, action.profileName, context);
    }
  },

  disassociateInstanceProfile: (action, context) =>
    ignoreNotFound(
      context.ec2.send(new DisassociateIamInstanceProfileCommand({ AssociationId: action.associationId }), {
        resource: label.instance(action.instanceId),
      }),
    ),
};

async function associate(
  instanceId: string,
  profileName: string,
  context: HandlerContext,
): Promise<ActionResponse> {
  try {
    const output = await context.ec2.send<AssociateIamInstanceProfileCommandOutput>(
      new AssociateIamInstanceProfileCommand({
        InstanceId: instanceId,
        IamInstanceProfile: { Name: profileName },
      }),
      {
        resource: label.instance(instanceId),
        dependsOnNewResource: context.created.has("instanceProfile", profileName),
      },
    );
    return associated(output.IamInstanceProfileAssociation, instanceId, profileName, context, "");
  } catch (error) {
    if (!isConflict(error)) throw error;
    // "There is an existing association": fine if it is the one we wanted (an unseen earlier success).
    const [current] = await describeAssociations(context.ec2, [instanceId]);
    if (current === undefined || iamNameKey(nameFromArn(current.profileArn)) !== iamNameKey(profileName))
      throw error;
    return { kind: "associated", association: current };
  }
}

/** The association EC2 answered with, completed from what the pass knows where the answer is silent. */
function associated(
  answer: IamInstanceProfileAssociation | undefined,
  instanceId: string,
  profileName: string,
  context: HandlerContext,
  fallbackId: string,
): ActionResponse {
  return {
    kind: "associated",
    association: {
      associationId: answer?.AssociationId ?? fallbackId,
      instanceId,
      profileArn: answer?.IamInstanceProfile?.Arn ?? profileNamed(context.state, profileName)?.arn ?? "",
      state: "associating",
    },
  };
}
