import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";

/** One key of the ring: its id (stored with every row it seals) and 32 bytes of key material. */
export interface SealingKey {
  readonly kid: string;
  readonly key: Uint8Array;
}

/** A sealed secret as stored: `nonce (12 B) ‖ ciphertext ‖ tag (16 B)` and the id of the key. */
export interface Sealed {
  readonly sealed: Uint8Array;
  readonly keyId: string;
}

/** Why a sealed value could not be opened; never carries the secret or the key. */
export type SealingErrorReason = "unknown_key" | "cannot_open";

/** Raised by {@link Sealer.open}; nothing is deleted or changed when it is thrown. */
export class SealingError extends Error {
  readonly reason: SealingErrorReason;
  readonly keyId: string;
  constructor(reason: SealingErrorReason, keyId: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "SealingError";
    this.reason = reason;
    this.keyId = keyId;
  }
}

const ALGORITHM = "aes-256-gcm";
const KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const KID = /^[A-Za-z0-9_-]+$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Parses `SEALING_KEYS`: comma-separated `<kid>:<base64 of 32 bytes>`, the first being the key for
 * new seals. Returns every problem at once; the messages never contain key material.
 */
export function parseSealingKeys(text: string): { keys: SealingKey[]; problems: string[] } {
  const keys: SealingKey[] = [];
  const problems: string[] = [];
  const seen = new Set<string>();
  const entries = text
    .split(",")
    .map((e) => e.trim())
    .filter(Boolean);
  entries.forEach((entry, i) => {
    const at = `entry ${i + 1}`;
    const colon = entry.indexOf(":");
    if (colon < 0) {
      problems.push(`${at} is not <kid>:<base64 key>; generate a key with \`openssl rand -base64 32\``);
      return;
    }
    const kid = entry.slice(0, colon).trim();
    const material = entry.slice(colon + 1).trim();
    if (!KID.test(kid)) {
      problems.push(`${at}: the key id must consist of letters, digits, "_" and "-", e.g. k1`);
      return;
    }
    if (seen.has(kid)) {
      problems.push(`key id ${kid} is used twice; each key needs its own id`);
      return;
    }
    seen.add(kid);
    const key = BASE64.test(material) ? Buffer.from(material, "base64") : undefined;
    if (key?.length !== KEY_BYTES) {
      problems.push(
        `key ${kid} is not 32 bytes of base64 (AES-256); generate one with \`openssl rand -base64 32\``,
      );
      return;
    }
    keys.push({ kid, key: new Uint8Array(key) });
  });
  return { keys, problems };
}

/**
 * AES-256-GCM over a key ring: seals with the current (first) key, opens with whichever key the row
 * names. The AAD binds each ciphertext to its row, so a value copied elsewhere does not open.
 */
export class Sealer {
  readonly #keys: ReadonlyMap<string, Uint8Array>;
  /** The id of the key new seals use. */
  readonly currentKeyId: string;

  constructor(keys: readonly SealingKey[]) {
    const first = keys[0];
    if (!first) throw new Error("the key ring is empty; set SEALING_KEYS to enable offline access");
    const map = new Map<string, Uint8Array>();
    for (const k of keys) {
      if (k.key.length !== KEY_BYTES) throw new Error(`key ${k.kid} is not 32 bytes`);
      if (map.has(k.kid)) throw new Error(`key id ${k.kid} is used twice`);
      map.set(k.kid, k.key);
    }
    this.#keys = map;
    this.currentKeyId = first.kid;
  }

  /** True when the ring holds the key `keyId`. */
  has(keyId: string): boolean {
    return this.#keys.has(keyId);
  }

  /** Seals `plaintext` under the current key, bound to `aad`. */
  seal(plaintext: string, aad: string): Sealed {
    const key = this.#keys.get(this.currentKeyId);
    if (!key) throw new Error("unreachable: the current key is in the ring");
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv(ALGORITHM, key, nonce, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(aad, "utf8"));
    const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
    const sealed = Buffer.concat([nonce, body, cipher.getAuthTag()]);
    return { sealed: new Uint8Array(sealed), keyId: this.currentKeyId };
  }

  /**
   * Opens a value sealed with key `keyId` and bound to `aad`.
   * @throws SealingError `unknown_key` when the ring lacks the key, `cannot_open` when the key, the
   *   value or the AAD does not match (tampered, copied to another row, or a different key under the
   *   same id).
   */
  open(sealed: Uint8Array, keyId: string, aad: string): string {
    const key = this.#keys.get(keyId);
    if (!key) {
      throw new SealingError(
        "unknown_key",
        keyId,
        `sealed with key ${keyId}, which SEALING_KEYS does not contain; add it back (as a later entry, to keep the current key)`,
      );
    }
    const data = Buffer.from(sealed);
    if (data.length < NONCE_BYTES + TAG_BYTES) {
      throw new SealingError("cannot_open", keyId, `the value sealed with key ${keyId} is truncated`);
    }
    try {
      const decipher = createDecipheriv(ALGORITHM, key, data.subarray(0, NONCE_BYTES), {
        authTagLength: TAG_BYTES,
      });
      decipher.setAAD(Buffer.from(aad, "utf8"));
      decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
      const body = data.subarray(NONCE_BYTES, data.length - TAG_BYTES);
      return Buffer.concat([decipher.update(body), decipher.final()]).toString("utf8");
    } catch (err) {
      throw new SealingError(
        "cannot_open",
        keyId,
        `cannot open a value sealed with key ${keyId}: the key material under that id, the value or the row it is bound to differs from when it was sealed`,
        { cause: err },
      );
    }
  }
}
