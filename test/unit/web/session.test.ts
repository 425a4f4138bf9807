import { createHmac, hkdfSync, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { SESSION_TTL_SECONDS, SessionSigner } from "../../../src/web/session.ts";
import { escapeHtml, html } from "../../../src/web/html.ts";

const key = (kid: string) => ({ kid, key: new Uint8Array(randomBytes(32)) });
const k1 = key("k1");
const k2 = key("k2");
const now = 1_800_000_000;

describe("the account session cookie", () => {
  it("round-trips a session and refuses it once expired", () => {
    const signer = new SessionSigner([k1]);
    const cookie = signer.sign({ userId: "u-1", version: 3, expiresAt: now + 60 });
    expect(signer.verify(cookie, now)).toEqual({ userId: "u-1", version: 3, expiresAt: now + 60 });
    expect(signer.verify(cookie, now + 60)).toBeUndefined();
  });

  it("refuses a changed payload, a foreign key and junk", () => {
    const signer = new SessionSigner([k1]);
    const cookie = signer.sign({ userId: "u-1", version: 3, expiresAt: now + 60 });
    const [v, kid, , mac] = cookie.split(".");
    const other = Buffer.from(JSON.stringify({ u: "u-2", s: 3, e: now + 60 })).toString("base64url");
    expect(signer.verify(`${v}.${kid}.${other}.${mac}`, now)).toBeUndefined();
    // A newer session version written into the payload breaks the MAC too.
    const bumped = Buffer.from(JSON.stringify({ u: "u-1", s: 4, e: now + 60 })).toString("base64url");
    expect(signer.verify(`${v}.${kid}.${bumped}.${mac}`, now)).toBeUndefined();
    expect(new SessionSigner([k2]).verify(cookie, now)).toBeUndefined();
    for (const junk of [undefined, "", "v1", "v1.k1.x.y", "v2.k1.e30.x", "x".repeat(600)]) {
      expect(signer.verify(junk, now)).toBeUndefined();
    }
  });

  it("refuses correctly signed cookies without a session version (the v1 format, or v2 without s)", () => {
    const signer = new SessionSigner([k1]);
    const macKey = Buffer.from(
      hkdfSync("sha256", k1.key, "nextcloud-mcp-gateway", "account-session-cookie v1", 32),
    );
    const forge = (version: string, payload: object) => {
      const head = `${version}.k1.${Buffer.from(JSON.stringify(payload)).toString("base64url")}`;
      return `${head}.${createHmac("sha256", macKey).update(head).digest("base64url")}`;
    };
    // The forging itself is right: the same recipe with a version passes.
    expect(signer.verify(forge("v2", { u: "u-1", s: 0, e: now + 60 }), now)?.version).toBe(0);
    expect(signer.verify(forge("v1", { u: "u-1", e: now + 60 }), now)).toBeUndefined();
    expect(signer.verify(forge("v2", { u: "u-1", e: now + 60 }), now)).toBeUndefined();
    expect(signer.verify(forge("v2", { u: "u-1", s: "0", e: now + 60 }), now)).toBeUndefined();
  });

  it("refuses cookies with an extra part, another version, a wrong-typed user or expiry, or a non-JSON payload", () => {
    const signer = new SessionSigner([k1]);
    const macKey = Buffer.from(
      hkdfSync("sha256", k1.key, "nextcloud-mcp-gateway", "account-session-cookie v1", 32),
    );
    const mac = (head: string) => createHmac("sha256", macKey).update(head).digest("base64url");
    const signRaw = (version: string, payload: string) => {
      const body = Buffer.from(payload).toString("base64url");
      return `${version}.k1.${body}.${mac(`v2.k1.${body}`)}`;
    };
    const good = JSON.stringify({ u: "u-1", s: 1, e: now + 60 });
    expect(signer.verify(signRaw("v2", good), now)?.userId).toBe("u-1");
    expect(signer.verify(`${signRaw("v2", good)}.extra`, now)).toBeUndefined();
    expect(signer.verify(signRaw("v3", good), now)).toBeUndefined();
    expect(signer.verify(signRaw("v2", JSON.stringify({ u: 5, s: 1, e: now + 60 })), now)).toBeUndefined();
    expect(
      signer.verify(signRaw("v2", JSON.stringify({ u: "u-1", s: 1, e: String(now + 60) })), now),
    ).toBeUndefined();
    expect(signer.verify(signRaw("v2", "not json"), now)).toBeUndefined();
    expect(signer.verify(signRaw("v2", "null"), now)).toBeUndefined();
  });

  it("accepts a cookie of up to 512 characters, checks expiry against the clock, and lasts 8 hours", () => {
    const signer = new SessionSigner([k1]);
    const sized = (chars: number) => {
      let userId = "u";
      let cookie = signer.sign({ userId, version: 1, expiresAt: now + 60 });
      while (cookie.length < chars) {
        userId += "x";
        cookie = signer.sign({ userId, version: 1, expiresAt: now + 60 });
      }
      return cookie;
    };
    const max = sized(512);
    const over = sized(513);
    expect([max.length, over.length]).toEqual([512, 513]);
    expect(signer.verify(max, now)).toBeDefined();
    expect(signer.verify(over, now)).toBeUndefined();
    const clock = Math.floor(Date.now() / 1000);
    expect(signer.verify(signer.sign({ userId: "u", version: 1, expiresAt: clock + 60 }))).toBeDefined();
    expect(signer.verify(signer.sign({ userId: "u", version: 1, expiresAt: clock - 1 }))).toBeUndefined();
    expect(SESSION_TTL_SECONDS).toBe(8 * 60 * 60);
    expect(() => new SessionSigner([])).toThrow(/at least one key/);
  });

  it("refuses a form token of another length without failing", () => {
    const signer = new SessionSigner([k1]);
    const cookie = signer.sign({ userId: "u-1", version: 1, expiresAt: now + 60 });
    expect(signer.checkFormToken(cookie, signer.formToken(cookie))).toBe(true);
    expect(signer.checkFormToken(cookie, "short")).toBe(false);
    expect(signer.checkFormToken(cookie, undefined)).toBe(false);
  });

  it("keeps cookies and form tokens of the previous key valid after a key rotation", () => {
    const before = new SessionSigner([k1]);
    const cookie = before.sign({ userId: "u-1", version: 3, expiresAt: now + 60 });
    const token = before.formToken(cookie);
    const after = new SessionSigner([k2, k1]);
    expect(after.verify(cookie, now)?.userId).toBe("u-1");
    expect(after.checkFormToken(cookie, token)).toBe(true);
    expect(after.checkFormToken(cookie, undefined)).toBe(false);
    expect(after.checkFormToken(`${cookie}x`, token)).toBe(false);
    // Once k1 leaves the ring, its cookies are gone: users sign in again.
    expect(new SessionSigner([k2]).verify(cookie, now)).toBeUndefined();
  });
});

describe("server-rendered HTML", () => {
  it("escapes every interpolated value, including inside attributes", () => {
    const name = `<script>alert("x")</script>' onmouseover='y`;
    expect(html`<p title="${name}">${name}</p>`.value).toBe(
      `<p title="${escapeHtml(name)}">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39; onmouseover=&#39;y</p>`,
    );
    const list = html`<ul>
      ${["a<b", html`<li>ok</li>`]}
    </ul>`.value;
    expect(list.replace(/\s+/g, "")).toBe("<ul>a&lt;b<li>ok</li></ul>");
  });
});
