/** The SQLSTATE codes of the integrity violations that stores turn into domain outcomes. */
export type IntegrityCode = "23505" | "23503" | "23514" | "23502";

/**
 * The integrity violation behind a failed query, the same on both backends (postgres.js names the
 * constraint `constraint_name`, PGlite `constraint`): e.g. `23505` with `offline_grants_one_active`
 * when a user already has an active grant. Undefined for any other error.
 */
export function integrityViolation(err: unknown): { code: IntegrityCode; constraint: string } | undefined {
  if (typeof err !== "object" || err === null) return undefined;
  const e = err as { code?: unknown; constraint_name?: unknown; constraint?: unknown };
  if (e.code !== "23505" && e.code !== "23503" && e.code !== "23514" && e.code !== "23502") return undefined;
  const constraint = e.constraint_name ?? e.constraint;
  return { code: e.code, constraint: typeof constraint === "string" ? constraint : "" };
}
