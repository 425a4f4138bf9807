import { createHash, timingSafeEqual } from "node:crypto";

const digest = (value: string) => createHash("sha256").update(value, "utf8").digest();

/**
 * A check of `Authorization: Bearer <secret>` against the configured secrets (the current one
 * first, then the one being rotated out). Each comparison is of SHA-256 digests, which have equal
 * lengths whatever was sent, with `timingSafeEqual`; every configured secret is compared on every
 * call, so the time taken says neither how much of a guess was right nor which secret matched.
 * Answers the index of the secret that matched (0: current, 1: previous), or undefined.
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-2.1
 */
export function secretCheck(
  secrets: readonly string[],
): (authorization: string | undefined) => number | undefined {
  if (secrets.length === 0 || secrets.some((s) => s.length === 0)) {
    throw new Error("a secret check needs at least one non-empty secret");
  }
  const expected = secrets.map(digest);
  return function checkSecret(authorization) {
    const match = /^Bearer +(\S+)$/i.exec(authorization?.trim() ?? "");
    // No or malformed header: compared as "", which no configured secret is.
    const presented = digest(match?.[1] ?? "");
    let found: number | undefined;
    for (const [i, e] of expected.entries()) {
      if (timingSafeEqual(e, presented) && found === undefined) found = i;
    }
    return found;
  };
}
