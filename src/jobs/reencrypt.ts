import type { Kysely } from "kysely";
import { GrantStore } from "../store/grants.ts";
import type { Database } from "../store/schema.ts";
import type { Sealer } from "../store/sealing.ts";
import { JobFailure, type Job } from "./run.ts";

/** How many grant rows (active, and revoked while a disconnect is in progress) a key id seals. */
export interface KeyUsage {
  keyId: string;
  active: number;
  revoked: number;
}

/**
 * Rows per key id, most rows first; `keys status` and `grants-reencrypt` read it. Blanked rows
 * (revoked grants, which keep no token) need no key and are not counted.
 */
export async function grantsByKey(db: Kysely<Database>): Promise<KeyUsage[]> {
  const rows = await db
    .selectFrom("offline_grants")
    .select(["key_id", "status"])
    .select((eb) => eb.fn.countAll<string>().as("n"))
    .where("key_id", "is not", null)
    .groupBy(["key_id", "status"])
    .execute();
  const byKey = new Map<string, KeyUsage>();
  for (const r of rows) {
    if (r.key_id === null) continue;
    const usage = byKey.get(r.key_id) ?? { keyId: r.key_id, active: 0, revoked: 0 };
    usage[r.status] += Number(r.n);
    byKey.set(r.key_id, usage);
  }
  return [...byKey.values()].sort(
    (a, b) => b.active + b.revoked - (a.active + a.revoked) || a.keyId.localeCompare(b.keyId),
  );
}

const rows = (n: number) => `${n} ${n === 1 ? "row" : "rows"}`;
const listKeys = (usage: readonly KeyUsage[]) =>
  usage.map((u) => `${u.keyId} (${rows(u.active + u.revoked)})`).join(", ");
const total = (usage: readonly KeyUsage[]) => usage.reduce((n, u) => n + u.active + u.revoked, 0);

/**
 * `grants-reencrypt` (a singleton): re-seals every stored refresh token (revoked grants keep none)
 * that is not under the current (first) key of SEALING_KEYS, so that older keys can leave the ring. Counts
 * `reencrypted`, `missingKey` (rows sealed with a key SEALING_KEYS lacks) and `unreadable` (rows
 * whose key id is in the ring but whose key material does not open them).
 *
 * Fails loudly and deletes nothing: when any row is sealed with a key missing from the ring, the
 * run changes no row at all and fails naming the key ids; rows that do not open are left as they
 * are and fail the run too. Either way the error tells the operator to put the old key back.
 */
export function reencryptJob(sealer: Sealer): Job {
  return {
    name: "grants-reencrypt",
    lockKey: 7_318_842_617_302n,
    async run(ctx) {
      const { db } = ctx.store;
      const before = await grantsByKey(db);
      const missing = before.filter((u) => !sealer.has(u.keyId));
      if (missing.length > 0) {
        throw new JobFailure(
          `${rows(total(missing))} of offline grants are sealed with keys that SEALING_KEYS does not contain: ${listKeys(missing)}. Nothing was re-encrypted, changed or deleted. Put these keys back into SEALING_KEYS (after the current key ${sealer.currentKeyId}) and run \`nextcloud-mcp-gateway keys reencrypt\` again.`,
          { reencrypted: 0, missingKey: total(missing), unreadable: 0 },
        );
      }
      const result = await new GrantStore(db, sealer).reencryptAll();
      const missingKey = Object.values(result.missingKey).reduce((a, b) => a + b, 0);
      const counts = { reencrypted: result.reencrypted, missingKey, unreadable: result.unreadable };
      if (missingKey === 0 && result.unreadable === 0) return counts;
      const left = (await grantsByKey(db)).filter((u) => u.keyId !== sealer.currentKeyId);
      const gone = left.filter((u) => !sealer.has(u.keyId));
      const unopened = left.filter((u) => sealer.has(u.keyId));
      const problems = [
        ...(gone.length > 0
          ? [`sealed with keys that SEALING_KEYS does not contain: ${listKeys(gone)}`]
          : []),
        ...(result.unreadable > 0
          ? [
              `${rows(result.unreadable)} did not open with the key SEALING_KEYS gives under their key id${unopened.length > 0 ? ` (${unopened.map((u) => u.keyId).join(", ")})` : ""}: the key material differs from the one that sealed them, or the rows were altered`,
            ]
          : []),
      ];
      throw new JobFailure(
        `${rows(counts.reencrypted)} re-encrypted under ${sealer.currentKeyId}; ${rows(missingKey + result.unreadable)} left unchanged (nothing was deleted): ${problems.join("; ")}. Put the original keys back into SEALING_KEYS (after the current key) and run \`nextcloud-mcp-gateway keys reencrypt\` again; users whose rows still do not open must reconnect.`,
        counts,
      );
    },
  };
}
