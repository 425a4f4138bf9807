// The reliability suite's fault-injection hook can never be on by accident: without NODE_ENV=test
// the gateway refuses it (serve and `jobs run` build their jobs through holdAfterRefreshHook), and
// with it the hook writes the grant id and holds until its marker file is deleted.
import { access, mkdtemp, readFile, rm, unlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, expect, it } from "vitest";
import { FAULT_HOLD_AFTER_REFRESH, holdAfterRefreshHook } from "../../../src/cli/fault-injection.ts";
import { waitFor } from "../../harness/wait.ts";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "ncmcp-fault-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

it("is off when the variable is unset or empty", () => {
  expect(holdAfterRefreshHook({ NODE_ENV: "test" })).toBeUndefined();
  expect(holdAfterRefreshHook({ NODE_ENV: "test", [FAULT_HOLD_AFTER_REFRESH]: "" })).toBeUndefined();
});

it.each([undefined, "production", "development", "TEST"])(
  "refuses to start with NODE_ENV=%s, naming the variable and what to do",
  (nodeEnv) => {
    const env = {
      [FAULT_HOLD_AFTER_REFRESH]: path.join(dir, "hold"),
      ...(nodeEnv ? { NODE_ENV: nodeEnv } : {}),
    };
    expect(() => holdAfterRefreshHook(env)).toThrow(
      /GATEWAY_FAULT_HOLD_AFTER_REFRESH is set.*only with NODE_ENV=test\. Unset GATEWAY_FAULT_HOLD_AFTER_REFRESH/,
    );
  },
);

it("refuses a relative marker path", () => {
  expect(() => holdAfterRefreshHook({ NODE_ENV: "test", [FAULT_HOLD_AFTER_REFRESH]: "hold" })).toThrow(
    /must be an absolute file path/,
  );
});

it("writes the grant id to the marker and holds until the marker is deleted", async () => {
  const marker = path.join(dir, "hold");
  const hook = holdAfterRefreshHook({ NODE_ENV: "test", [FAULT_HOLD_AFTER_REFRESH]: marker });
  let released = false;
  const holding = hook?.("grant-1").then(() => {
    released = true;
  });
  await waitFor("the marker", () => readFile(marker, "utf8").catch(() => undefined));
  expect(await readFile(marker, "utf8")).toBe("grant-1");
  expect(released).toBe(false);
  await unlink(marker);
  await holding;
  expect(released).toBe(true);
  await expect(access(marker)).rejects.toThrow();
});
