import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../../src/config/index.ts";
import { parseSealingKeys, Sealer, SealingError, type SealingKey } from "../../../src/store/sealing.ts";

const k = (kid: string): SealingKey => ({ kid, key: new Uint8Array(randomBytes(32)) });
const b64 = (key: SealingKey) => Buffer.from(key.key).toString("base64");

function openError(fn: () => unknown): SealingError {
  try {
    fn();
  } catch (err) {
    if (err instanceof SealingError) return err;
    throw err;
  }
  throw new Error("expected a SealingError");
}

describe("Sealer", () => {
  const k1 = k("k1");
  const k2 = k("k2");
  const secret = "eyJhbGciOi.refresh-token-value.sig";

  it("round-trips under the current key, with a fresh nonce each time", () => {
    const sealer = new Sealer([k1]);
    const a = sealer.seal(secret, "grant:1:alice");
    const b = sealer.seal(secret, "grant:1:alice");
    expect(a.keyId).toBe("k1");
    expect(a.sealed.length).toBe(12 + Buffer.byteLength(secret) + 16);
    expect(Buffer.from(a.sealed).equals(Buffer.from(b.sealed))).toBe(false);
    expect(Buffer.from(a.sealed).includes(Buffer.from(secret))).toBe(false);
    expect(sealer.open(a.sealed, "k1", "grant:1:alice")).toBe(secret);
  });

  it("detects a flipped bit in nonce, ciphertext or tag, and truncation", () => {
    const sealer = new Sealer([k1]);
    const { sealed } = sealer.seal(secret, "aad");
    for (const at of [0, 12, sealed.length - 1]) {
      const tampered = Uint8Array.from(sealed);
      tampered[at] = (tampered[at] ?? 0) ^ 1;
      expect(openError(() => sealer.open(tampered, "k1", "aad")).reason).toBe("cannot_open");
    }
    expect(openError(() => sealer.open(sealed.subarray(0, 20), "k1", "aad")).reason).toBe("cannot_open");
  });

  it("refuses another AAD (a value copied to another row)", () => {
    const sealer = new Sealer([k1]);
    const { sealed } = sealer.seal(secret, "grant:1:alice");
    const err = openError(() => sealer.open(sealed, "k1", "grant:2:alice"));
    expect(err.reason).toBe("cannot_open");
    expect(err.message).not.toContain(secret);
  });

  it("seals with the first key and opens with any key of the ring", () => {
    const old = new Sealer([k1]).seal(secret, "aad");
    const rotated = new Sealer([k2, k1]);
    expect(rotated.currentKeyId).toBe("k2");
    expect(rotated.open(old.sealed, "k1", "aad")).toBe(secret);
    expect(rotated.seal(secret, "aad").keyId).toBe("k2");
  });

  it("names a key that is missing from the ring, and a different key under the same id", () => {
    const old = new Sealer([k1]).seal(secret, "aad");
    const missing = openError(() => new Sealer([k2]).open(old.sealed, "k1", "aad"));
    expect(missing.reason).toBe("unknown_key");
    expect(missing.message).toMatch(/^sealed with key k1, which SEALING_KEYS does not contain; add it back/);
    const wrong = openError(() => new Sealer([{ kid: "k1", key: k2.key }]).open(old.sealed, "k1", "aad"));
    expect(wrong.reason).toBe("cannot_open");
  });

  it("says a value is truncated, names the key when it does not open, and opens an empty secret", () => {
    const sealer = new Sealer([k1]);
    expect(sealer.has("k1")).toBe(true);
    expect(sealer.has("k2")).toBe(false);
    const empty = sealer.seal("", "aad");
    expect(empty.sealed.length).toBe(28);
    expect(sealer.open(empty.sealed, "k1", "aad")).toBe("");
    const truncated = openError(() => sealer.open(empty.sealed.subarray(0, 27), "k1", "aad"));
    expect([truncated.name, truncated.reason, truncated.keyId, truncated.message]).toEqual([
      "SealingError",
      "cannot_open",
      "k1",
      "the value sealed with key k1 is truncated",
    ]);
    const other = openError(() => sealer.open(sealer.seal(secret, "aad").sealed, "k1", "other"));
    expect(other.message).toBe(
      "cannot open a value sealed with key k1: the key material under that id, the value or the row it is bound to differs from when it was sealed",
    );
    expect(other.cause).toBeInstanceOf(Error);
    // Not ASCII: sealed and opened as UTF-8, the AAD too.
    const unicode = sealer.seal("jeton-é-✓", "grant:ü");
    expect(sealer.open(unicode.sealed, "k1", "grant:ü")).toBe("jeton-é-✓");
  });

  it("refuses an empty ring, short keys and duplicate ids", () => {
    expect(() => new Sealer([])).toThrow(/SEALING_KEYS/);
    expect(() => new Sealer([{ kid: "k1", key: new Uint8Array(16) }])).toThrow(/32 bytes/);
    expect(() => new Sealer([k1, k1])).toThrow(/twice/);
  });
});

describe("SEALING_KEYS", () => {
  const k1 = k("k1");
  const k2 = k("k2");
  const base = {
    GATEWAY_PUBLIC_URL: "https://mcp.example.com",
    OIDC_ISSUER: "https://sso.example.com/realms/nextcloud-mcp",
    OIDC_CLIENT_SECRET: "s3cr3t-value",
  };

  it("parses the ring in order, current key first", () => {
    const { keys, problems } = parseSealingKeys(` k2:${b64(k2)} , k1:${b64(k1)} `);
    expect(problems).toEqual([]);
    expect(keys.map((x) => x.kid)).toEqual(["k2", "k1"]);
    expect(Buffer.from(keys[1]?.key ?? []).equals(Buffer.from(k1.key))).toBe(true);
  });

  it("tolerates spaces around the colon and a trailing comma; accepts unpadded base64", () => {
    const unpadded = b64(k1).replace(/=+$/, "");
    const { keys, problems } = parseSealingKeys(`k1 : ${b64(k1)}, k2:${unpadded}, `);
    expect(problems).toEqual([]);
    expect(keys.map((x) => x.kid)).toEqual(["k1", "k2"]);
    expect(Buffer.from(keys[1]?.key ?? []).equals(Buffer.from(k1.key))).toBe(true);
  });

  it("refuses key material with anything but base64 around it, and an entry without a key id", () => {
    const notBase64 =
      "key k1 is not 32 bytes of base64 (AES-256); generate one with `openssl rand -base64 32`";
    expect(parseSealingKeys(`k1:#${b64(k1)}`).problems).toEqual([notBase64]);
    expect(parseSealingKeys(`k1:${b64(k1)}#`).problems).toEqual([notBase64]);
    expect(parseSealingKeys(`:${b64(k1)}`).problems).toEqual([
      'entry 1: the key id must consist of letters, digits, "_" and "-", e.g. k1',
    ]);
  });

  it("is optional: unset turns offline access off", () => {
    expect(loadConfig(base).sealingKeys).toBeUndefined();
    expect(loadConfig({ ...base, SEALING_KEYS: `k1:${b64(k1)}` }).sealingKeys?.map((x) => x.kid)).toEqual([
      "k1",
    ]);
  });

  it("reports every wrong entry, naming the fix and never the key material", () => {
    const short = Buffer.from(randomBytes(16)).toString("base64");
    const value = `k1:${short},bad kid:${b64(k1)},k2:${b64(k2)},k2:${b64(k1)},nocolon,k3:not*base64`;
    let problems: readonly string[] = [];
    try {
      loadConfig({ ...base, SEALING_KEYS: value });
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      problems = err.problems;
      expect(err.message).not.toContain(short);
      expect(err.message).not.toContain(b64(k1));
      expect(err.message).not.toContain(b64(k2));
    }
    expect(problems).toEqual([
      "SEALING_KEYS: key k1 is not 32 bytes of base64 (AES-256); generate one with `openssl rand -base64 32`",
      'SEALING_KEYS: entry 2: the key id must consist of letters, digits, "_" and "-", e.g. k1',
      "SEALING_KEYS: key id k2 is used twice; each key needs its own id",
      "SEALING_KEYS: entry 5 is not <kid>:<base64 key>; generate a key with `openssl rand -base64 32`",
      "SEALING_KEYS: key k3 is not 32 bytes of base64 (AES-256); generate one with `openssl rand -base64 32`",
    ]);
  });
});
