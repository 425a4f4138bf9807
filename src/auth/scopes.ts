/**
 * Reads the scopes of a `scope` claim: a space-delimited string, or (tolerated) an array of
 * strings; anything else grants nothing. Order is kept, duplicates dropped.
 * @see https://www.rfc-editor.org/rfc/rfc9068#section-2.2.3
 * @see https://www.rfc-editor.org/rfc/rfc8693#section-4.2
 */
export function parseScopes(scopeClaim: unknown): string[] {
  let values: string[];
  if (typeof scopeClaim === "string") values = [scopeClaim];
  else if (Array.isArray(scopeClaim))
    values = (scopeClaim as unknown[]).filter((s): s is string => typeof s === "string");
  else values = [];
  return [...new Set(values.flatMap((v) => v.split(" ")).filter((s) => s !== ""))];
}

/**
 * The required scopes that were not granted, in the order required (empty when all are granted).
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-3.1
 */
export function missingScopes(granted: readonly string[], required: readonly string[]): string[] {
  const have = new Set(granted);
  return [...new Set(required)].filter((scope) => !have.has(scope));
}
