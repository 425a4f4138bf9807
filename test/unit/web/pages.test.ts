// Regression: `/account?notice=toString` printed a function body, because the notice was looked up
// with `in`, which finds Object.prototype's members. Only the page's own notices may be shown.
import { describe, expect, it } from "vitest";
import { NOTICES, noticeKey, signedOutPage } from "../../../src/web/pages.ts";

describe("account page notices", () => {
  it("names only the page's own notices", () => {
    for (const key of Object.keys(NOTICES)) expect(noticeKey(key)).toBe(key);
    for (const key of [
      "toString",
      "constructor",
      "__proto__",
      "hasOwnProperty",
      "valueOf",
      "isPrototypeOf",
      "toLocaleString",
      "",
      undefined,
    ]) {
      expect(noticeKey(key)).toBeUndefined();
    }
  });

  it("renders no notice for a prototype member", () => {
    const page = signedOutPage(noticeKey("toString")).value;
    expect(page).not.toContain('role="status"');
    expect(page).not.toContain("function");
    expect(page).not.toContain("native code");
  });
});
