import { createCipheriv, hkdfSync, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  isReturnPath,
  LOGIN_TTL_SECONDS,
  LoginCookieSealer,
  sameState,
} from "../../../src/web/login-cookie.ts";

const key = (kid: string) => ({ kid, key: new Uint8Array(randomBytes(32)) });
const k1 = key("k1");
const k2 = key("k2");
const now = 1_800_000_000;
const fields = {
  purpose: "connect",
  codeVerifier: "verifier-1",
  nonce: "nonce-1",
  returnTo: "/account",
} as const;

describe("the sealed login cookie", () => {
  it("round-trips a sign-in until 10 minutes have passed, then says it expired", () => {
    const sealer = new LoginCookieSealer([k1]);
    const login = LoginCookieSealer.start(fields, now);
    expect(login.expiresAt).toBe(now + LOGIN_TTL_SECONDS);
    expect(login.state).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const cookie = sealer.seal(login);
    expect(sealer.open(cookie, now + LOGIN_TTL_SECONDS - 1)).toEqual(login);
    expect(sealer.open(cookie, now + LOGIN_TTL_SECONDS)).toBe("expired");
  });

  it("is secret: neither the PKCE verifier, the nonce nor the state can be read from it", () => {
    const login = LoginCookieSealer.start(fields, now);
    const cookie = new LoginCookieSealer([k1]).seal(login);
    const bytes = Buffer.from(cookie.split(".")[2] ?? "", "base64url").toString("latin1");
    for (const secret of [login.codeVerifier, login.nonce, login.state]) {
      expect(cookie).not.toContain(secret);
      expect(bytes).not.toContain(secret);
    }
  });

  it("refuses a changed byte, another key ring, a changed key id, and junk", () => {
    const sealer = new LoginCookieSealer([k1]);
    const cookie = sealer.seal(LoginCookieSealer.start(fields, now));
    const [v, kid, body = ""] = cookie.split(".");
    const raw = Buffer.from(body, "base64url");
    raw[20] = (raw[20] ?? 0) ^ 1;
    expect(sealer.open(`${v}.${kid}.${raw.toString("base64url")}`, now)).toBe("missing");
    expect(new LoginCookieSealer([k2]).open(cookie, now)).toBe("missing");
    // The key id is authenticated: the same key material under another id does not open it.
    expect(new LoginCookieSealer([{ kid: "k9", key: k1.key }]).open(`v1.k9.${body}`, now)).toBe("missing");
    for (const junk of [
      undefined,
      "",
      "v1",
      "v1.k1",
      "v1.k1.",
      "v2.k1.AAAA",
      "v1.k1.%%%",
      "x".repeat(3000),
    ]) {
      expect(sealer.open(junk, now)).toBe("missing");
    }
  });

  it("opens cookies sealed with an older key of the ring and seals new ones with the first", () => {
    const before = new LoginCookieSealer([k1]);
    const after = new LoginCookieSealer([k2, k1]);
    const login = LoginCookieSealer.start(fields, now);
    expect(after.open(before.seal(login), now)).toEqual(login);
    expect(after.seal(login)).toMatch(/^v1\.k2\./);
  });

  it("compares states exactly", () => {
    expect(sameState("abc", "abc")).toBe(true);
    expect(sameState("abc", "abd")).toBe(false);
    expect(sameState("abc", "abcd")).toBe(false);
    expect(sameState("", "abc")).toBe(false);
  });

  it("refuses correctly sealed cookies whose content is not a sign-in, and cookies over 2048 characters", () => {
    const sealer = new LoginCookieSealer([k1]);
    // The sealing recipe of src/web/login-cookie.ts, for contents the gateway itself never writes.
    const forge = (plaintext: string, kid = "k1", aadKid = kid) => {
      const cookieKey = Buffer.from(
        hkdfSync("sha256", k1.key, "nextcloud-mcp-gateway", "login-cookie v1", 32),
      );
      const nonce = randomBytes(12);
      const cipher = createCipheriv("aes-256-gcm", cookieKey, nonce);
      cipher.setAAD(Buffer.from(`v1.${aadKid}`));
      const body = Buffer.concat([
        nonce,
        cipher.update(plaintext, "utf8"),
        cipher.final(),
        cipher.getAuthTag(),
      ]);
      return `v1.${kid}.${body.toString("base64url")}`;
    };
    const good = { s: "state-1", p: "login", v: "verifier", n: "nonce", r: "/connect", e: now + 60 };
    // The recipe is right: a well-formed content opens.
    expect(sealer.open(forge(JSON.stringify(good)), now)).toEqual({
      state: "state-1",
      purpose: "login",
      codeVerifier: "verifier",
      nonce: "nonce",
      returnTo: "/connect",
      expiresAt: now + 60,
    });
    expect(sealer.open(forge(JSON.stringify({ ...good, p: "connect" })), now)).toMatchObject({
      purpose: "connect",
    });
    for (const bad of [
      { ...good, s: 1 },
      { ...good, s: undefined },
      { ...good, p: "admin" },
      { ...good, v: null },
      { ...good, n: 5 },
      { ...good, r: "https://evil.example/" },
      { ...good, r: "/account/logout" },
      { ...good, e: String(now + 60) },
      { ...good, e: undefined },
    ]) {
      expect(sealer.open(forge(JSON.stringify(bad)), now), JSON.stringify(bad)).toBe("missing");
    }
    for (const junk of ["null", "[]", "not json", "{"]) expect(sealer.open(forge(junk), now)).toBe("missing");
    // A fourth part, or another version in front of a genuine body, is refused.
    expect(sealer.open(`${forge(JSON.stringify(good))}.extra`, now)).toBe("missing");
    expect(sealer.open(forge(JSON.stringify(good)).replace(/^v1\./, "v9."), now)).toBe("missing");
    // Against the real clock when none is given.
    const clock = Math.floor(Date.now() / 1000);
    expect(sealer.open(forge(JSON.stringify({ ...good, e: clock + 60 })))).toMatchObject({
      state: "state-1",
    });
    expect(sealer.open(forge(JSON.stringify({ ...good, e: clock - 1 })))).toBe("expired");
    expect(LoginCookieSealer.start(fields).expiresAt - clock).toBeGreaterThanOrEqual(LOGIN_TTL_SECONDS);
    expect(LoginCookieSealer.start(fields).expiresAt - clock).toBeLessThanOrEqual(LOGIN_TTL_SECONDS + 5);
    // The AAD binds the key id: a body sealed for another id does not open under this one.
    expect(sealer.open(forge(JSON.stringify(good), "k1", "k2"), now)).toBe("missing");
    // Length limit: a genuine cookie of exactly 2048 characters opens, one of 2049 does not.
    const sized = (chars: number) => {
      let pad = "";
      let cookie = forge(JSON.stringify({ ...good, x: pad }));
      while (cookie.length < chars) {
        pad += "a";
        cookie = forge(JSON.stringify({ ...good, x: pad }));
      }
      return cookie;
    };
    const max = sized(2048);
    const over = sized(2049);
    expect(max.length).toBe(2048);
    expect(over.length).toBe(2049);
    expect(sealer.open(max, now)).toMatchObject({ state: "state-1" });
    expect(sealer.open(over, now)).toBe("missing");
  });

  it("refuses an empty key ring, and accepts only the fixed return paths", () => {
    expect(() => new LoginCookieSealer([])).toThrow(/at least one key/);
    expect(isReturnPath("/account")).toBe(true);
    expect(isReturnPath("/connect")).toBe(true);
    for (const other of ["/", "/account/", "//evil.example", "", undefined, 1])
      expect(isReturnPath(other)).toBe(false);
  });
});
