/* Generated from schemas/instance-access.schema.json by `npm run gen:types`. Do not edit by hand. */

export const instanceAccessSchema = {
  "$schema": "http://json-schema.org/draft-07/schema#",
  "$id": "https://rolecall.dev/schemas/instance-access.v1alpha1.schema.json",
  "title": "InstanceAccess",
  "description": "Grants the EC2 instances it selects access to S3 buckets through an IAM instance profile that rolecall creates and keeps in sync.",
  "type": "object",
  "additionalProperties": false,
  "required": [
    "apiVersion",
    "kind",
    "metadata",
    "spec"
  ],
  "properties": {
    "apiVersion": {
      "description": "Version of the InstanceAccess API.",
      "const": "rolecall.dev/v1alpha1"
    },
    "kind": {
      "description": "Always InstanceAccess.",
      "const": "InstanceAccess"
    },
    "metadata": {
      "$ref": "#/definitions/Metadata"
    },
    "spec": {
      "$ref": "#/definitions/Spec"
    }
  },
  "definitions": {
    "Metadata": {
      "title": "Metadata",
      "type": "object",
      "additionalProperties": false,
      "required": [
        "name"
      ],
      "properties": {
        "name": {
          "description": "Name of this manifest; unique across the manifests directory. Default IAM names derive from it (rolecall-<name>).",
          "type": "string",
          "minLength": 1,
          "maxLength": 48,
          "pattern": "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$",
          "patternErrorMessage": "must be a lowercase DNS label: lowercase letters, digits and '-', starting and ending with a letter or digit"
        },
        "labels": {
          "description": "Free-form labels, as in Kubernetes.",
          "type": "object",
          "propertyNames": {
            "maxLength": 253,
            "pattern": "^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$",
            "patternErrorMessage": "label keys follow Kubernetes rules: an optional DNS prefix and '/', then up to 63 letters, digits, '-', '_' or '.'"
          },
          "additionalProperties": {
            "type": "string",
            "maxLength": 63,
            "pattern": "^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$",
            "patternErrorMessage": "label values are up to 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit"
          }
        }
      }
    },
    "Spec": {
      "title": "Spec",
      "type": "object",
      "additionalProperties": false,
      "required": [
        "instanceSelector",
        "grants"
      ],
      "properties": {
        "instanceSelector": {
          "$ref": "#/definitions/InstanceSelector"
        },
        "grants": {
          "description": "The buckets the selected instances may use, and how.",
          "type": "array",
          "minItems": 1,
          "maxItems": 100,
          "items": {
            "$ref": "#/definitions/Grant"
          }
        },
        "listAllBuckets": {
          "description": "Also allow s3:ListAllMyBuckets and s3:GetBucketLocation on every bucket, so consoles and `aws s3 ls` can list bucket names.",
          "type": "boolean",
          "default": false
        },
        "iam": {
          "$ref": "#/definitions/IamNames"
        },
        "adopt": {
          "description": "Take over an existing IAM resource with the desired name that rolecall does not own.",
          "type": "boolean",
          "default": false
        },
        "onConflict": {
          "description": "What to do with a selected instance that already holds an instance profile rolecall does not own.",
          "type": "string",
          "enum": [
            "skip",
            "replace"
          ],
          "default": "skip"
        },
        "deletionPolicy": {
          "description": "What happens in AWS when this manifest is removed: delete the resources, or keep them (tagged as orphaned).",
          "type": "string",
          "enum": [
            "delete",
            "retain"
          ],
          "default": "delete"
        },
        "mode": {
          "description": "enforce converges AWS to this manifest; observe only reports drift. Defaults to the daemon's --mode.",
          "type": "string",
          "enum": [
            "enforce",
            "observe"
          ]
        }
      }
    },
    "InstanceSelector": {
      "title": "InstanceSelector",
      "description": "Which instances get access: those listed by ID, and those carrying every tag in matchTags.",
      "type": "object",
      "additionalProperties": false,
      "minProperties": 1,
      "errorMessage": "must select instances with instanceIds, matchTags or both",
      "properties": {
        "instanceIds": {
          "type": "array",
          "minItems": 1,
          "maxItems": 1000,
          "uniqueItems": true,
          "items": {
            "type": "string",
            "pattern": "^i-([0-9a-f]{8}|[0-9a-f]{17})$",
            "patternErrorMessage": "must be an EC2 instance ID: 'i-' followed by 8 or 17 lowercase hex digits"
          }
        },
        "matchTags": {
          "description": "Every key must be present on the instance with exactly this value.",
          "type": "object",
          "minProperties": 1,
          "maxProperties": 50,
          "propertyNames": {
            "minLength": 1,
            "maxLength": 128,
            "pattern": "^(?!aws:)",
            "patternErrorMessage": "tag keys starting with 'aws:' are reserved by AWS"
          },
          "additionalProperties": {
            "type": "string",
            "maxLength": 256
          }
        }
      }
    },
    "Grant": {
      "title": "Grant",
      "type": "object",
      "additionalProperties": false,
      "required": [
        "bucket",
        "access"
      ],
      "properties": {
        "bucket": {
          "$ref": "#/definitions/BucketName"
        },
        "access": {
          "description": "read: get and list objects; write: put objects; read-write: both, plus delete.",
          "type": "string",
          "enum": [
            "read",
            "write",
            "read-write"
          ]
        },
        "prefixes": {
          "description": "Limit access to object keys under these prefixes (for example reports/). Without it the whole bucket is granted.",
          "type": "array",
          "minItems": 1,
          "maxItems": 50,
          "uniqueItems": true,
          "items": {
            "type": "string",
            "minLength": 1,
            "maxLength": 512,
            "pattern": "^[^*?$\\u0000-\\u001f\\u007f]*$",
            "patternErrorMessage": "prefixes are literal key prefixes: no '*', '?', '$' or control characters"
          }
        }
      }
    },
    "BucketName": {
      "description": "An S3 general purpose bucket name.",
      "type": "string",
      "minLength": 3,
      "maxLength": 63,
      "allOf": [
        {
          "type": "string",
          "pattern": "^[a-z0-9.-]*$",
          "patternErrorMessage": "bucket names use only lowercase letters, digits, '.' and '-'"
        },
        {
          "type": "string",
          "pattern": "^[a-z0-9](.*[a-z0-9])?$",
          "patternErrorMessage": "bucket names begin and end with a lowercase letter or digit"
        },
        {
          "type": "string",
          "pattern": "^(?!.*\\.\\.)",
          "patternErrorMessage": "bucket names must not contain two adjacent periods"
        },
        {
          "type": "string",
          "pattern": "^(?![0-9]{1,3}(\\.[0-9]{1,3}){3}$)",
          "patternErrorMessage": "bucket names must not be formatted as an IP address"
        },
        {
          "type": "string",
          "pattern": "^(?!xn--|sthree-|amzn-s3-demo-)",
          "patternErrorMessage": "bucket names must not start with the reserved prefixes 'xn--', 'sthree-' or 'amzn-s3-demo-'"
        },
        {
          "type": "string",
          "pattern": "^(?!.*(-s3alias|--ol-s3|\\.mrap|--x-s3|--table-s3)$)",
          "patternErrorMessage": "bucket names must not end with the reserved suffixes '-s3alias', '--ol-s3', '.mrap', '--x-s3' or '--table-s3'"
        }
      ]
    },
    "IamNames": {
      "title": "IamNames",
      "description": "Explicit AWS names; each defaults to rolecall-<metadata.name>.",
      "type": "object",
      "additionalProperties": false,
      "properties": {
        "policyName": {
          "type": "string",
          "minLength": 1,
          "maxLength": 128,
          "pattern": "^[A-Za-z0-9+=,.@_-]+$",
          "patternErrorMessage": "IAM names use only letters, digits and + = , . @ _ -"
        },
        "roleName": {
          "type": "string",
          "minLength": 1,
          "maxLength": 64,
          "pattern": "^[A-Za-z0-9+=,.@_-]+$",
          "patternErrorMessage": "IAM names use only letters, digits and + = , . @ _ -"
        },
        "instanceProfileName": {
          "type": "string",
          "minLength": 1,
          "maxLength": 128,
          "pattern": "^[A-Za-z0-9+=,.@_-]+$",
          "patternErrorMessage": "IAM names use only letters, digits and + = , . @ _ -"
        }
      }
    }
  }
} as const;
