// Which jobs a gateway schedules, and when: the grant jobs only while offline access is on.
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { configuredJobs } from "../../../src/cli/jobs.ts";
import { loadConfig } from "../../../src/config/index.ts";

const base = {
  GATEWAY_PUBLIC_URL: "https://mcp.example.com",
  OIDC_ISSUER: "https://sso.example.com/realms/nextcloud-mcp",
  OIDC_CLIENT_SECRET: "s3cr3t-value",
  DATABASE_URL: "postgres://gw:pw@db.example.com:5432/gw",
};
const idp = () => Promise.reject(new Error("not needed"));

describe("configuredJobs", () => {
  it("schedules only housekeeping while SEALING_KEYS is unset (offline access off)", () => {
    const jobs = configuredJobs(loadConfig(base), { idp });
    expect(jobs.map((j) => [j.job.name, j.schedule])).toEqual([["housekeeping", "17 * * * *"]]);
  });

  it("schedules grants-keepalive (shared by replicas) and grants-reencrypt (a singleton) with their schedules", () => {
    const jobs = configuredJobs(
      loadConfig({
        ...base,
        SEALING_KEYS: `k1:${randomBytes(32).toString("base64")}`,
        KEEPALIVE_SCHEDULE: "*/5 * * * *",
        REENCRYPT_SCHEDULE: "0 4 * * *",
      }),
      { idp },
    );
    expect(jobs.map((j) => [j.job.name, j.schedule])).toEqual([
      ["housekeeping", "17 * * * *"],
      ["grants-keepalive", "*/5 * * * *"],
      ["grants-reencrypt", "0 4 * * *"],
    ]);
    // Every replica runs keepalive and leases grants; re-encryption runs on one replica at a time.
    expect(jobs[1]?.job.lockKey).toBeUndefined();
    expect(typeof jobs[2]?.job.lockKey).toBe("bigint");
    expect(jobs[2]?.job.lockKey).not.toBe(jobs[0]?.job.lockKey);
  });
});
