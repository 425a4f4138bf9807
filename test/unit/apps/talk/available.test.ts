// When the talk tools are listed: the user's capabilities carry Talk with its conversation API v4
// (Nextcloud lists an app's capabilities only for users who may use it).
import { describe, expect, it } from "vitest";
import { talkGroup } from "../../../../src/apps/talk/index.ts";
import type { Capabilities, NextcloudClient } from "../../../../src/nextcloud/index.ts";

const withCaps = (raw: Record<string, unknown>) =>
  // Only capabilities() is read by the predicate; the rest of the client is not needed.
  ({
    capabilities: () =>
      Promise.resolve({
        version: { major: 31, minor: 0, micro: 9, string: "31.0.9" },
        raw,
      } satisfies Capabilities),
  }) as unknown as NextcloudClient;

describe("the talk group's availability", () => {
  const signal = new AbortController().signal;
  const available = talkGroup.available;
  if (available === undefined) throw new Error("the talk group must say when it is available");

  it("is there with spreed's conversation-v4 feature, and not without Talk or on a Talk too old for API v4", async () => {
    expect(await available(withCaps({ spreed: { features: ["chat-v2", "conversation-v4"] } }), signal)).toBe(
      true,
    );
    expect(await available(withCaps({ notes: {} }), signal)).toBe(false);
    expect(await available(withCaps({ spreed: { features: ["chat-v2", "conversation-v3"] } }), signal)).toBe(
      false,
    );
    expect(await available(withCaps({ spreed: {} }), signal)).toBe(false);
  });
});
