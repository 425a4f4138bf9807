// The pure parts of the sharing tools: permission names and the bitmask, expiry dates, the share
// and sharee records (no password or hash ever kept), and the policy read from the capabilities.
import { describe, expect, it } from "vitest";
import {
  expiryProblem,
  permissionMask,
  permissionNames,
  policyOf,
  shareesOf,
  shareOf,
} from "../../../../src/apps/sharing/model.ts";
import {
  createProblem,
  expiryRuleProblem,
  passwordRemovalProblem,
} from "../../../../src/apps/sharing/policy.ts";

const NOW = new Date("2026-12-05T10:00:00Z");

describe("permissions", () => {
  it("maps names to Nextcloud's bits and back, in a fixed order", () => {
    expect(permissionMask(["read"])).toBe(1);
    expect(permissionMask(["share", "read", "update"])).toBe(19);
    expect(permissionMask(["read", "update", "create", "delete", "share"])).toBe(31);
    expect(permissionNames(31)).toEqual(["read", "update", "create", "delete", "share"]);
    expect(permissionNames(17)).toEqual(["read", "share"]);
    expect(permissionNames(0)).toEqual([]);
  });
});

describe("expiry dates", () => {
  it("accepts a real date after today", () => {
    expect(expiryProblem("2026-12-06", NOW)).toBeUndefined();
    expect(expiryProblem("2028-02-29", NOW)).toBeUndefined();
  });
  it("refuses dates in the past, other formats and days that do not exist, naming the format", () => {
    expect(expiryProblem("2026-12-04", NOW)).toMatch(/in the past/);
    for (const bad of [
      "2026-13-01",
      "2027-02-29",
      "05.12.2027",
      "2027-1-5",
      "tomorrow",
      "2027-01-05T00:00",
    ]) {
      expect(expiryProblem(bad, NOW), bad).toMatch(/YYYY-MM-DD, e\.g\. "2026-12-12"/);
    }
  });
  it("refuses dates beyond the enforced maximum of the share's kind", () => {
    const policy = policyOf(caps({ public: { expire_date: { enabled: true, enforced: true, days: 7 } } }));
    expect(expiryRuleProblem(policy, "link", "2026-12-12", NOW)).toBeUndefined();
    expect(expiryRuleProblem(policy, "link", "2026-12-13", NOW)).toMatch(
      /at most 7 days.*on or before 2026-12-12/,
    );
    expect(expiryRuleProblem(policy, "user", "2027-12-13", NOW)).toBeUndefined();
  });
});

function caps(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    files_sharing: {
      api_enabled: true,
      public: {
        enabled: true,
        password: { enforced: false, askForOptionalPassword: false },
        ...(over.public as object),
      },
      group_sharing: true,
      sharebymail: { enabled: true },
      sharee: { query_lookup_default: false, always_show_unique: true },
      ...Object.fromEntries(Object.entries(over).filter(([k]) => k !== "public")),
    },
  };
}

describe("the policy", () => {
  it("reads the files_sharing capabilities; no entry means no sharing", () => {
    expect(policyOf({}).apiEnabled).toBe(false);
    const p = policyOf(
      caps({ public: { enabled: false, password: { enforced: true } }, group_sharing: false }),
    );
    expect(p).toMatchObject({
      apiEnabled: true,
      linksEnabled: false,
      linkPasswordEnforced: true,
      groupSharing: false,
    });
  });
  it("explains each refusal with the setting and what to do", () => {
    const enforced = policyOf(caps({ public: { password: { enforced: true } } }));
    expect(createProblem(enforced, { type: "link", upload: false }, NOW)).toMatch(
      /requires a password on public links/,
    );
    expect(createProblem(enforced, { type: "link", password: "x", upload: false }, NOW)).toBeUndefined();
    expect(createProblem(enforced, { type: "user", upload: false }, NOW)).toBeUndefined();
    expect(passwordRemovalProblem(enforced, "link")).toMatch(/cannot be removed/);
    expect(passwordRemovalProblem(policyOf(caps()), "link")).toBeUndefined();
    const noLinks = policyOf(caps({ public: { enabled: false } }));
    expect(createProblem(noLinks, { type: "link", password: "x", upload: false }, NOW)).toMatch(
      /Public links are turned off/,
    );
    const noGroups = policyOf(caps({ group_sharing: false }));
    expect(createProblem(noGroups, { type: "group", upload: false }, NOW)).toMatch(/groups is turned off/);
    const noMail = policyOf(caps({ sharebymail: { enabled: false } }));
    expect(createProblem(noMail, { type: "email", upload: false }, NOW)).toMatch(/Share by mail/);
    const noUpload = policyOf(caps({ public: { upload: false } }));
    expect(createProblem(noUpload, { type: "link", upload: true }, NOW)).toMatch(
      /Uploads through public links/,
    );
    expect(
      createProblem(policyOf(caps()), { type: "link", upload: false, expireDate: "2020-01-01" }, NOW),
    ).toMatch(/in the past/);
  });
});

describe("share records", () => {
  const link = {
    id: "7",
    share_type: 3,
    uid_owner: "alice",
    displayname_owner: "Alice Demo",
    permissions: 17,
    expiration: "2027-01-05 00:00:00",
    token: "AbCdEfGhIjKlMnO",
    url: "https://cloud.example/index.php/s/AbCdEfGhIjKlMnO",
    share_with: "3|$argon2id$hash",
    share_with_displayname: "3|$argon2id$hash",
    password: "3|$argon2id$hash",
    path: "/Documents/report.md",
    item_type: "file",
    note: "",
    label: "board",
  };
  it("keeps only whether a link has a password, never its hash", () => {
    const s = shareOf(link);
    expect(s).toEqual({
      id: "7",
      type: "link",
      path: "/Documents/report.md",
      itemType: "file",
      owner: "alice",
      ownerName: "Alice Demo",
      sharedWith: null,
      sharedWithName: null,
      permissions: ["read", "share"],
      expires: "2027-01-05",
      note: "",
      label: "board",
      url: "https://cloud.example/index.php/s/AbCdEfGhIjKlMnO",
      passwordProtected: true,
    });
    expect(JSON.stringify(s)).not.toContain("argon2");
    expect(shareOf({ ...link, password: null, share_with: null }).passwordProtected).toBe(false);
  });
  it("names user and group recipients, and share types the gateway does not create", () => {
    expect(
      shareOf({ id: 3, share_type: 0, share_with: "bob", share_with_displayname: "Bob", permissions: 1 }),
    ).toMatchObject({
      id: "3",
      type: "user",
      sharedWith: "bob",
      sharedWithName: "Bob",
      passwordProtected: false,
    });
    expect(shareOf({ share_type: 10 }).type).toBe("talk");
    expect(shareOf({ share_type: 99 }).type).toBe("other");
  });
});

describe("sharee search results", () => {
  it("lists exact matches first, users, groups and emails, each once", () => {
    const raw = {
      exact: {
        users: [
          {
            label: "Bob Demo",
            shareWithDisplayNameUnique: "bob@example.test",
            value: { shareType: 0, shareWith: "b1" },
          },
        ],
        groups: [],
        emails: [],
      },
      users: [
        { label: "Bob Demo", value: { shareType: 0, shareWith: "b1" } },
        { label: "Bobby", value: { shareType: 0, shareWith: "b2" } },
      ],
      groups: [{ label: "Bobcats", value: { shareType: 1, shareWith: "bobcats" } }],
      remotes: [{ label: "remote", value: { shareType: 6, shareWith: "x@y" } }],
    };
    expect(shareesOf(raw)).toEqual([
      { type: "user", shareWith: "b1", label: "Bob Demo", detail: "bob@example.test", exact: true },
      { type: "user", shareWith: "b2", label: "Bobby", detail: null, exact: false },
      { type: "group", shareWith: "bobcats", label: "Bobcats", detail: null, exact: false },
    ]);
    expect(shareesOf(null)).toEqual([]);
  });
});
