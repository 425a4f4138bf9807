import type { Kysely } from "kysely";
import type { Database } from "./schema.ts";

/** What the audit trail records about offline grants. */
export type AuditAction = "connect" | "refresh" | "revoke" | "disconnect";

/** One audit event. `detail` is context for people (key ids, reasons, scopes); never a token or secret. */
export interface AuditEvent {
  userId?: string | undefined;
  /** The user's pseudonym, which stays when the user row is deleted. */
  subjectHash?: string | undefined;
  action: AuditAction;
  detail?: Record<string, string | number | boolean | null>;
}

/** Appends an event to `audit_events`; pass the transaction when the event belongs to one. */
export async function audit(db: Kysely<Database>, event: AuditEvent): Promise<void> {
  await db
    .insertInto("audit_events")
    .values({
      user_id: event.userId ?? null,
      subject_hash: event.subjectHash ?? null,
      action: event.action,
      detail: event.detail ?? {},
    })
    .execute();
}
