// Only the EC2 client and the commands rolecall sends. The build bundles each module of this directory with just
// what it names (scripts/bundle-sdk.mjs): the package's own entry point loads the schemas and classes of every EC2
// operation, about 80 MiB of resident memory for a process that sends five.
export {
  AssociateIamInstanceProfileCommand,
  DescribeIamInstanceProfileAssociationsCommand,
  DescribeInstancesCommand,
  DisassociateIamInstanceProfileCommand,
  EC2Client,
  ReplaceIamInstanceProfileAssociationCommand,
} from "@aws-sdk/client-ec2";
