import { s3Actions } from "../desired/s3-policy.js";

/**
 * Action names are case-insensitive in IAM: `s3:getobject` is `s3:GetObject`. Grants are compared by the
 * lower-cased name; what is shown is AWS's spelling for the actions rolecall compiles (so a hand-edited live
 * document in lower case still reads like the compiled one), and the name as written for any other, wildcards
 * included: `s3:Get*` stays a pattern and is never expanded into the actions it matches today.
 */
const spelling = new Map<string, string>(
  [...Object.values(s3Actions).flat(), "sts:AssumeRole"].map((action) => [action.toLowerCase(), action]),
);

/** The key two spellings of one action share. */
export function actionKey(action: string): string {
  return action.toLowerCase();
}

/** How an action (or action pattern) is shown. */
export function displayAction(action: string): string {
  return spelling.get(actionKey(action)) ?? action;
}
