// The stand-in's model of CORSMiddleware (test/standin/cors.ts) against the cases read in
// nextcloud/server's CORSMiddleware.php and Request.php: which requests to a `#[CORS]` route get
// "CORS requires basic auth", by version, header value, cookies, mode and the user_oidc patch.
import type { IncomingMessage } from "node:http";
import { describe, expect, it } from "vitest";
import { corsRefuses, majorOf, passesCsrfCheck, STANDIN_SESSION_COOKIE } from "../../standin/cors.ts";

/** The headers of a request as node:http presents them (the only part the rule reads). */
function request(headers: Record<string, string | string[]> = {}): IncomingMessage {
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  // eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment -- only `headers` is read
  return { headers: lower } as IncomingMessage;
}
const bearer = { loggedIn: true, mode: "honour-header" } as const;

describe("CORSMiddleware on Nextcloud 31 and later (PR 46760)", () => {
  it.each([
    ["true", false],
    ["false", false],
    ["0", false],
    ["anything", false],
    ["", true],
  ])("OCS-APIRequest %j: refused %s", (value, refused) => {
    expect(corsRefuses(request({ "OCS-APIRequest": value }), { ...bearer, major: 31 })).toBe(refused);
    expect(corsRefuses(request({ "OCS-APIRequest": value }), { ...bearer, major: 33 })).toBe(refused);
  });

  it("refuses a bearer request without the header", () => {
    expect(corsRefuses(request(), { ...bearer, major: 31 })).toBe(true);
  });

  it("refuses every request when a proxy strips the header (strict)", () => {
    expect(corsRefuses(request({ "OCS-APIRequest": "true" }), { ...bearer, mode: "strict", major: 31 })).toBe(
      true,
    );
  });

  it("needs the same-site cookies when a session cookie comes with a PHP-false header value", () => {
    const session = `${STANDIN_SESSION_COOKIE}=abc`;
    const withCookies = (cookie: string) => request({ "OCS-APIRequest": "0", cookie });
    expect(passesCsrfCheck(withCookies(session), 31, "honour-header")).toBe(false);
    expect(passesCsrfCheck(withCookies("nc_token=x"), 31, "honour-header")).toBe(false);
    expect(
      passesCsrfCheck(
        withCookies(`${session}; nc_sameSiteCookiestrict=true; nc_sameSiteCookielax=true`),
        31,
        "honour-header",
      ),
    ).toBe(true);
    // A truthy header makes the cookie check a no-op.
    expect(passesCsrfCheck(request({ "OCS-APIRequest": "true", cookie: session }), 31, "honour-header")).toBe(
      true,
    );
    // Unrelated cookies do not count.
    expect(passesCsrfCheck(withCookies("theme=dark"), 31, "honour-header")).toBe(true);
  });

  it("lets an anonymous request with the header through to SecurityMiddleware, and refuses it without", () => {
    const anonymous = { loggedIn: false, mode: "honour-header", major: 31 } as const;
    expect(corsRefuses(request({ "OCS-APIRequest": "true" }), anonymous)).toBe(false);
    expect(corsRefuses(request(), anonymous)).toBe(true);
  });
});

describe("CORSMiddleware on Nextcloud 30 and older", () => {
  it.each([30, 29, 28])("Nextcloud %i refuses bearer requests whatever the header", (major) => {
    expect(corsRefuses(request({ "OCS-APIRequest": "true" }), { ...bearer, major })).toBe(true);
    expect(corsRefuses(request(), { ...bearer, major })).toBe(true);
  });

  it("lets a session flagged app_api through (user_oidc PR 1221), on any version", () => {
    expect(corsRefuses(request(), { ...bearer, major: 30, appApiSession: true })).toBe(false);
    expect(corsRefuses(request(), { ...bearer, mode: "strict", major: 31, appApiSession: true })).toBe(false);
    // The flag belongs to a logged-in session.
    expect(
      corsRefuses(request(), { loggedIn: false, mode: "honour-header", major: 30, appApiSession: true }),
    ).toBe(true);
  });
});

describe("#[PublicPage] routes", () => {
  it("are not checked without a session, and checked with one", () => {
    expect(corsRefuses(request(), { loggedIn: false, mode: "strict", major: 30, publicPage: true })).toBe(
      false,
    );
    expect(corsRefuses(request(), { ...bearer, major: 30, publicPage: true })).toBe(true);
  });
});

describe("majorOf", () => {
  it("reads the major version and refuses what is not a version", () => {
    expect(majorOf("30.0.12")).toBe(30);
    expect(majorOf("31.0.9.1")).toBe(31);
    expect(() => majorOf("latest")).toThrow(/not a Nextcloud version/);
  });
});
