// Fault injection for the reliability suite, and nothing else. One hook:
// GATEWAY_FAULT_HOLD_AFTER_REFRESH=<file> makes grants-keepalive stop right after the IdP answered a
// refresh (the old refresh token is spent, the rotated one not yet committed): it writes the grant's
// id to <file> and waits, holding the grant's row lock and transaction open, until <file> is deleted;
// the scenario kills the process there (test/integration/reliability/keepalive-kill.test.ts).
//
// It stops every keepalive refresh, so it must never be on by accident: it is not a configuration
// setting (not in the schema, not in docs/configuration.md), and a process that has it set without
// NODE_ENV=test refuses to start (the container image sets NODE_ENV=production).
import { access, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

export const FAULT_HOLD_AFTER_REFRESH = "GATEWAY_FAULT_HOLD_AFTER_REFRESH";

/** Called with the grant's id after the IdP answered its refresh and before the new token is committed. */
export type AfterRefreshHook = (grantId: string) => Promise<void>;

/**
 * The hook GATEWAY_FAULT_HOLD_AFTER_REFRESH asks for, or undefined when it is not set.
 * @throws when it is set and NODE_ENV is not `test`, or when it is not an absolute path.
 */
export function holdAfterRefreshHook(env: NodeJS.ProcessEnv = process.env): AfterRefreshHook | undefined {
  const marker = env[FAULT_HOLD_AFTER_REFRESH];
  if (marker === undefined || marker === "") return undefined;
  if (env.NODE_ENV !== "test") {
    throw new Error(
      `${FAULT_HOLD_AFTER_REFRESH} is set, but it is a fault-injection hook of the reliability tests that stops every keepalive refresh; it works only with NODE_ENV=test. Unset ${FAULT_HOLD_AFTER_REFRESH}.`,
    );
  }
  if (!path.isAbsolute(marker)) {
    throw new Error(`${FAULT_HOLD_AFTER_REFRESH} must be an absolute file path; it is "${marker}"`);
  }
  return async (grantId) => {
    // Written whole, then renamed: the test never reads half a marker.
    await writeFile(`${marker}.tmp`, grantId);
    await rename(`${marker}.tmp`, marker);
    // A test hook polls a file: the process is meant to be killed here, or let go by deleting it.
    for (;;) {
      try {
        await access(marker);
      } catch {
        return;
      }
      await sleep(50);
    }
  };
}
