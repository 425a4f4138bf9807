// The webhook settings: off without WEBHOOK_SECRET; the secrets (current first) from the variables
// or from `<NAME>_FILE`; each wrong combination named with its fix; the rate limit off with
// RATE_LIMITS_ENABLED=false; secrets never echoed in the problems.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../../src/config/index.ts";

const dir = mkdtempSync(join(tmpdir(), "ncmcp-webhook-"));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const SECRET = "a".repeat(32);
const PREVIOUS = "b".repeat(40);
const base = {
  GATEWAY_PUBLIC_URL: "https://mcp.example.com",
  OIDC_ISSUER: "https://sso.example.com/realms/nextcloud-mcp",
  OIDC_CLIENT_SECRET: "x",
  SEALING_KEYS: `k1:${Buffer.alloc(32, 1).toString("base64")}`,
  NEXTCLOUD_URL: "https://cloud.example.com",
  SEARCH_INDEX_ENABLED: "true",
};

function problems(env: Record<string, string>): readonly string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error("expected a ConfigError");
}

describe("webhook configuration", () => {
  it("is off without WEBHOOK_SECRET", () => {
    expect(loadConfig(base).webhooks).toBeUndefined();
  });

  it("takes the current and the previous secret, from variables or files, with the defaults", () => {
    expect(
      loadConfig({ ...base, WEBHOOK_SECRET: SECRET, WEBHOOK_SECRET_PREVIOUS: PREVIOUS }).webhooks,
    ).toEqual({
      secrets: [SECRET, PREVIOUS],
      maxBodyBytes: 262_144,
      maxAgeSeconds: 3600,
      perMinute: 1200,
    });
    const current = join(dir, "current");
    writeFileSync(current, `${SECRET}\n`);
    const previous = join(dir, "previous");
    writeFileSync(previous, PREVIOUS);
    expect(
      loadConfig({ ...base, WEBHOOK_SECRET_FILE: current, WEBHOOK_SECRET_PREVIOUS_FILE: previous }).webhooks
        ?.secrets,
    ).toEqual([SECRET, PREVIOUS]);
  });

  it("turns the rate limit off with 0 or RATE_LIMITS_ENABLED=false", () => {
    expect(
      loadConfig({ ...base, WEBHOOK_SECRET: SECRET, WEBHOOK_RATE_LIMIT_PER_MINUTE: "0" }).webhooks?.perMinute,
    ).toBe(undefined);
    expect(
      loadConfig({ ...base, WEBHOOK_SECRET: SECRET, RATE_LIMITS_ENABLED: "false" }).webhooks?.perMinute,
    ).toBe(undefined);
  });

  it("names every wrong setting with its fix, without echoing a secret", () => {
    const short = "short-secret";
    const found = problems({
      ...base,
      WEBHOOK_SECRET: `${SECRET} with spaces`,
      WEBHOOK_MAX_BODY_BYTES: "10",
      WEBHOOK_MAX_AGE_SECONDS: "1",
    });
    expect(found).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^WEBHOOK_SECRET: has characters/),
        expect.stringMatching(/^WEBHOOK_MAX_BODY_BYTES: too small/),
        expect.stringMatching(/^WEBHOOK_MAX_AGE_SECONDS: too small/),
      ]),
    );
    expect(problems({ ...base, SEARCH_INDEX_ENABLED: "false", WEBHOOK_SECRET: SECRET })).toEqual([
      "WEBHOOK_SECRET: the webhook endpoint only schedules re-indexing; set SEARCH_INDEX_ENABLED=true too, or unset WEBHOOK_SECRET",
    ]);
    expect(problems({ ...base, WEBHOOK_SECRET: short })).toEqual([
      expect.stringMatching(/^WEBHOOK_SECRET: too short/),
    ]);
    expect(problems({ ...base, WEBHOOK_SECRET_PREVIOUS: PREVIOUS })).toEqual([
      "WEBHOOK_SECRET_PREVIOUS: set without WEBHOOK_SECRET; set the new secret in WEBHOOK_SECRET, or unset both",
    ]);
    for (const p of [...found, ...problems({ ...base, WEBHOOK_SECRET: short })]) {
      expect(p).not.toContain(SECRET);
      expect(p).not.toContain(short);
    }
  });
});
