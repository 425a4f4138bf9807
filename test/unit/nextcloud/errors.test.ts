// Nextcloud's HTTP answers become NextcloudErrors with messages a user can act on.
import { describe, expect, it } from "vitest";
import { GatewayError } from "../../../src/errors.ts";
import { errorFromResponse, parseRetryAfter } from "../../../src/nextcloud/errors.ts";

describe("parseRetryAfter", () => {
  it("reads delay-seconds and HTTP dates", () => {
    expect(parseRetryAfter("120")).toBe(120_000);
    expect(parseRetryAfter(new Date(10_000 + 30_000).toUTCString(), 10_000)).toBe(30_000);
    expect(parseRetryAfter(null)).toBeUndefined();
    expect(parseRetryAfter("soon")).toBeUndefined();
  });
});

describe("errorFromResponse", () => {
  const h = (o: Record<string, string> = {}) => new Headers(o);

  it.each([
    [401, "unauthorized", 401, "invalid_token"],
    [403, "forbidden", 403, "access_denied"],
    [404, "not_found", 404, "invalid_request"],
    [409, "conflict", 409, "invalid_request"],
    [412, "precondition_failed", 412, "invalid_request"],
    [423, "locked", 423, "temporarily_unavailable"],
    [429, "rate_limited", 429, "temporarily_unavailable"],
    [507, "quota", 507, "invalid_request"],
    [500, "unavailable", 502, "temporarily_unavailable"],
  ] as const)("maps HTTP %i to %s", (status, kind, gwStatus, code) => {
    const err = errorFromResponse(status, h(), 'file "/a.txt"');
    expect(err).toBeInstanceOf(GatewayError);
    expect(err.kind).toBe(kind);
    expect(err.status).toBe(gwStatus);
    expect(err.code).toBe(code);
    expect(err.httpStatus).toBe(status);
  });

  it("tells the CORS logout of app routes apart from a refused token", () => {
    const err = errorFromResponse(401, h(), "your notes", { message: "CORS requires basic auth" });
    expect(err.kind).toBe("bearer_refused");
    expect(err.description).toMatch(/administrator/);
  });

  it("recognises maintenance mode and honours Retry-After", () => {
    const err = errorFromResponse(503, h({ "X-Nextcloud-Maintenance-Mode": "1", "Retry-After": "120" }), "x");
    expect(err.kind).toBe("maintenance");
    expect(err.retryAfterMs).toBe(120_000);
    expect(err.description).toBe("Nextcloud is in maintenance mode. Try again in 120 s.");
  });

  it("keeps the current version on a 412", () => {
    const err = errorFromResponse(412, h(), "note 7", { current: { id: 7, etag: "abc" } });
    expect(err.current).toEqual({ id: 7, etag: "abc" });
  });
});
