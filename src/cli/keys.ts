import type { Config } from "../config/index.ts";
import { grantsByKey } from "../jobs/index.ts";
import { openStore } from "../store/index.ts";

/** What `keys status` prints, and whether every row can be read with SEALING_KEYS. */
export interface KeyStatus {
  text: string;
  ok: boolean;
}

/**
 * `nextcloud-mcp-gateway keys status`: rows per key id (active and revoked) and whether each key
 * id is in SEALING_KEYS; key ids and counts only, never key material. Not ok when rows are sealed
 * with a key the ring lacks (those rows cannot be read).
 */
export async function keyStatus(config: Config): Promise<KeyStatus> {
  const store = await openStore(config.database, { poolMax: 1 });
  let usage;
  try {
    usage = await grantsByKey(store.db);
  } finally {
    await store.close();
  }
  const ring = config.sealingKeys?.map((k) => k.kid) ?? [];
  const current = ring[0];
  const table: string[][] = [["key id", "active", "revoked", "in SEALING_KEYS"]];
  const seen = new Set<string>();
  for (const u of usage) {
    seen.add(u.keyId);
    const where =
      u.keyId === current
        ? "yes (current)"
        : ring.includes(u.keyId)
          ? "yes"
          : "NO: these rows cannot be read";
    table.push([u.keyId, String(u.active), String(u.revoked), where]);
  }
  for (const kid of ring) {
    if (!seen.has(kid)) {
      table.push([
        kid,
        "0",
        "0",
        kid === current ? "yes (current)" : "yes (seals no rows; may leave the ring)",
      ]);
    }
  }
  const widths = table[0]?.map((_, i) => Math.max(...table.map((r) => (r[i] ?? "").length))) ?? [];
  const lines = [
    current === undefined
      ? "SEALING_KEYS: not set (offline access is off)"
      : `SEALING_KEYS: ${ring.map((k) => (k === current ? `${k} (current)` : k)).join(", ")}`,
    "",
    ...table.map((r) =>
      r
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join("  ")
        .trimEnd(),
    ),
    "",
  ];
  const missing = usage.filter((u) => !ring.includes(u.keyId));
  const older = usage.filter((u) => u.keyId !== current && ring.includes(u.keyId));
  if (usage.length === 0) lines.push("No offline grants are stored.");
  if (missing.length > 0) {
    lines.push(
      `Rows sealed with ${missing.map((u) => u.keyId).join(", ")} cannot be read: put ${missing.length === 1 ? "that key" : "those keys"} back into SEALING_KEYS (after the current key), then run \`nextcloud-mcp-gateway keys reencrypt\`.`,
    );
  }
  if (older.length > 0 && current !== undefined) {
    lines.push(
      `Rows sealed with ${older.map((u) => u.keyId).join(", ")} are not yet under ${current}: run \`nextcloud-mcp-gateway keys reencrypt\` (or wait for grants-reencrypt); then ${older.length === 1 ? "that key" : "those keys"} can leave SEALING_KEYS.`,
    );
  }
  if (usage.length > 0 && missing.length === 0 && older.length === 0) {
    lines.push(`Every row is sealed with the current key ${current ?? ""}.`);
  }
  return { text: `${lines.join("\n")}\n`, ok: missing.length === 0 };
}
