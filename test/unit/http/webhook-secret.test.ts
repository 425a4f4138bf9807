// The webhook's shared-secret check: the current and the previous secret match (and say which),
// anything else does not, whatever its length or shape; digests make every comparison equal in
// length, so timingSafeEqual never throws.
import { describe, expect, it } from "vitest";
import { secretCheck } from "../../../src/http/webhook-secret.ts";

const CURRENT = "c".repeat(40);
const PREVIOUS = "p".repeat(48);

describe("secretCheck", () => {
  const check = secretCheck([CURRENT, PREVIOUS]);

  it("matches the current secret as 0 and the previous one as 1", () => {
    expect(check(`Bearer ${CURRENT}`)).toBe(0);
    expect(check(`Bearer ${PREVIOUS}`)).toBe(1);
    expect(check(`bearer ${CURRENT}`)).toBe(0);
    expect(check(`  Bearer   ${CURRENT}  `)).toBe(0);
  });

  it("refuses anything else, of any length, without throwing", () => {
    for (const header of [
      undefined,
      "",
      "Bearer",
      "Bearer ",
      `Bearer ${CURRENT.slice(0, -1)}`,
      `Bearer ${CURRENT}x`,
      `Bearer ${CURRENT.slice(0, -1)}d`,
      `Bearer ${"x".repeat(10_000)}`,
      `Bearer ${"é".repeat(40)}`,
      `Basic ${CURRENT}`,
      CURRENT,
      `Bearer ${CURRENT} ${CURRENT}`,
      `Bearer ${CURRENT}${PREVIOUS}`,
    ]) {
      expect(check(header), String(header)).toBeUndefined();
    }
  });

  it("with one secret, only that one matches", () => {
    const only = secretCheck([CURRENT]);
    expect(only(`Bearer ${CURRENT}`)).toBe(0);
    expect(only(`Bearer ${PREVIOUS}`)).toBeUndefined();
  });

  it("refuses to be built without a secret, or with an empty one", () => {
    expect(() => secretCheck([])).toThrow(/at least one non-empty secret/);
    expect(() => secretCheck([CURRENT, ""])).toThrow(/at least one non-empty secret/);
  });
});
