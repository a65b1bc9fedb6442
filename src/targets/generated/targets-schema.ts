/* Generated from schemas/targets.schema.json by `npm run gen:types`. Do not edit by hand. */

export const targetsSchema = {
  "$schema": "http://json-schema.org/draft-07/schema#",
  "$id": "https://rolecall.dev/schemas/targets.v1alpha1.schema.json",
  "title": "Targets",
  "description": "The accounts and regions one rolecall manages, each with the sub-directory of manifests that applies to it.",
  "type": "object",
  "additionalProperties": false,
  "required": [
    "apiVersion",
    "kind",
    "targets"
  ],
  "properties": {
    "apiVersion": {
      "description": "Version of the Targets API.",
      "const": "rolecall.dev/v1alpha1"
    },
    "kind": {
      "description": "Always Targets.",
      "const": "Targets"
    },
    "targets": {
      "type": "array",
      "minItems": 1,
      "maxItems": 100,
      "items": {
        "$ref": "#/definitions/Target"
      }
    }
  },
  "definitions": {
    "Target": {
      "title": "Target",
      "type": "object",
      "additionalProperties": false,
      "required": [
        "name",
        "manifests",
        "account",
        "regions"
      ],
      "properties": {
        "name": {
          "description": "Name of the target, unique in the file; it labels metrics, status and output.",
          "type": "string",
          "minLength": 1,
          "maxLength": 63,
          "pattern": "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$",
          "patternErrorMessage": "must be a lowercase DNS label: lowercase letters, digits and '-', starting and ending with a letter or digit"
        },
        "manifests": {
          "description": "Sub-directory of --manifests holding this target's manifests (relative, inside it).",
          "type": "string",
          "minLength": 1,
          "maxLength": 1024,
          "pattern": "^(?!/)(?!.*(^|/)\\.\\.(/|$)).+$",
          "patternErrorMessage": "must be a relative path inside the manifests directory (no leading '/', no '..')"
        },
        "account": {
          "description": "The 12-digit AWS account ID; checked against sts:GetCallerIdentity with the target's credentials.",
          "type": "string",
          "pattern": "^[0-9]{12}$",
          "patternErrorMessage": "must be a 12-digit AWS account ID, quoted (\"111111111111\")"
        },
        "roleArn": {
          "description": "A role to assume (RoleSessionName rolecall) for this target; without it, rolecall's own credentials are used.",
          "type": "string",
          "pattern": "^arn:aws[a-z-]*:iam::[0-9]{12}:role/[\\w+=,.@/-]{1,512}$",
          "patternErrorMessage": "must be an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)"
        },
        "externalId": {
          "description": "The external ID the role's trust policy requires, if any.",
          "type": "string",
          "minLength": 2,
          "maxLength": 1224,
          "pattern": "^[\\w+=,.@:/-]+$",
          "patternErrorMessage": "may hold only letters, digits and +=,.@:/-"
        },
        "regions": {
          "description": "EC2 regions whose instances this target's manifests select from.",
          "type": "array",
          "minItems": 1,
          "maxItems": 40,
          "uniqueItems": true,
          "items": {
            "type": "string",
            "pattern": "^[a-z]{2}(-[a-z]+)+-[0-9]+$",
            "patternErrorMessage": "must be an AWS region name such as us-east-1"
          }
        }
      }
    }
  }
} as const;
