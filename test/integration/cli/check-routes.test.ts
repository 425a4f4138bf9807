// The route matrix `check` prints (src/cli/check-routes.ts), against the stand-in as each kind of
// Nextcloud: 31 with the OCS-APIRequest header reaching it, 31 behind a proxy that strips it, 30, and
// a Nextcloud that cannot be reached. No user token is used.
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { routeMatrixLines, type RouteLine } from "../../../src/cli/check-routes.ts";
import { formatCheck } from "../../../src/cli/check.ts";
import { freePort } from "../../harness/wait.ts";
import { startNextcloudStandin, type NextcloudStandin } from "../../standin/index.ts";

let nc: NextcloudStandin;
beforeAll(async () => {
  nc = await startNextcloudStandin({ issuer: inject("keycloak").issuer, audience: "nextcloud" });
});
afterAll(async () => {
  await nc.stop();
});

const matrix = (url = nc.url) =>
  routeMatrixLines({ url, audience: "nextcloud", tokenScope: "", timeoutMs: 5000 });
const line = (lines: RouteLine[], name: string) => lines.find((l) => l.name === name);

describe("check's route matrix", () => {
  it("Nextcloud 31 with the header reaching it: every class takes bearer tokens; what needs a user is said", async () => {
    nc.resetRequests();
    const lines = await matrix();
    expect(lines.map((l) => l.name)).toEqual([
      "route OCS",
      "route WebDAV",
      "route CalDAV/CardDAV",
      "route #[CORS] apps",
    ]);
    expect(lines.every((l) => l.ok)).toBe(true);
    expect(line(lines, "route OCS")?.message).toContain("not probed: that needs a user's token");
    expect(line(lines, "route #[CORS] apps")?.message).toBe(
      "bearer tokens accepted on Nextcloud 31.0.9: the OCS-APIRequest header reaches it (an anonymous request to the Notes API passed its CORS check)",
    );
    // Anonymous requests only: status.php and one app route.
    expect(nc.requests().map((r) => r.rawPath)).toEqual([
      "/status.php",
      "/index.php/apps/notes/api/v1/notes",
    ]);
    expect(nc.seenTokens).toEqual([]);
    expect(formatCheck(lines)).toMatch(/^ok {4}route #\[CORS\] apps +bearer tokens accepted/m);
  });

  it("Nextcloud 31 behind a proxy that strips the header: a failure naming the proxy and what still works", async () => {
    nc.setCorsMode("strict");
    try {
      const cors = line(await matrix(), "route #[CORS] apps");
      expect(cors?.ok).toBe(false);
      expect(cors?.message).toContain(
        'carrying it got "CORS requires basic auth", so a proxy between here and Nextcloud strips the header',
      );
      expect(cors?.message).toContain("the notes tools use the notes folder over WebDAV");
    } finally {
      nc.setCorsMode("honour-header");
    }
  });

  it("Nextcloud 30: refused by version, with the upgrade and the patches named", async () => {
    nc.setNextcloudVersion("30.0.12");
    try {
      const cors = line(await matrix(), "route #[CORS] apps");
      expect(cors?.ok).toBe(true);
      expect(cors?.message).toMatch(
        /^bearer tokens refused on Nextcloud 30\.0\.12 .*user_oidc PR 1221 or server PR 55878.*upgrade to Nextcloud 31 or later/,
      );
    } finally {
      nc.setNextcloudVersion("31.0.9");
    }
  });

  it("says the matrix could not be determined when Nextcloud cannot be reached, and nothing without NEXTCLOUD_URL", async () => {
    const lines = await matrix(`http://127.0.0.1:${String(await freePort())}`);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ name: "routes", ok: false });
    expect(lines[0]?.message).toMatch(/^not determined: /);
    expect(await routeMatrixLines(undefined)).toEqual([]);
  });
});
