// What the gateway takes from a webhook_listeners delivery: the event class, the event time, and
// per Nextcloud user the paths of the changed files (node events) or just the user (calendar object
// events). Nothing else of the body is read: titles, contents and calendar data are never trusted
// or stored; the index job reads the item itself with the user's own token.
// Envelope: `{"event":{"class":…, …},"user":{"uid","displayName"}|null,"time":<unix seconds>}`
// (apps/webhook_listeners/lib/Listener/WebhooksEventListener.php; docs/operations.md).
import type { WebhookChange } from "../store/index.ts";

/** A delivery as far as the gateway reads it. */
export type ParsedDelivery =
  | { kind: "change"; eventClass: string; time: Date; changes: WebhookChange[] }
  | { kind: "ignored"; eventClass: string; time: Date; reason: string };

/** A body that is not a webhook_listeners envelope; `message` says what is wrong. */
export interface PayloadProblem {
  problem: string;
}

const NODE_EVENT = /^OCP\\Files\\Events\\Node\\Node(Created|Written|Deleted|Touched|Renamed|Copied)Event$/;
const TWO_NODE_EVENT = /\\Node(Renamed|Copied)Event$/;
const CALENDAR_EVENT =
  /^(OCP\\Calendar\\Events|OCA\\DAV\\Events)\\CalendarObject(Created|Updated|Deleted|Moved|MovedToTrash|Restored)Event$/;
const MAX_PATH = 4096;
const MAX_UID = 255;

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** Whether `s` holds a control character (C0 or DEL). */
function hasControl(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const code = s.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

/** A Nextcloud user id as the gateway accepts one: not empty, no slash, no control characters. */
function validUid(uid: unknown): uid is string {
  return (
    typeof uid === "string" &&
    uid.length > 0 &&
    uid.length <= MAX_UID &&
    !uid.includes("/") &&
    !hasControl(uid)
  );
}

/**
 * A node's path `/<uid>/files/<path>` as the user and the path below their files root
 * (`/<path>`, `/` for the root); undefined for nodes outside a user's files (versions, trash,
 * app data), which the index does not hold.
 * @throws Error for a path that is not a clean absolute path.
 */
export function nodePath(path: unknown, field: string): { uid: string; path: string } | undefined {
  if (typeof path !== "string" || path.length === 0 || path.length > MAX_PATH || !path.startsWith("/")) {
    throw new Error(`${field}.path must be an absolute path of at most ${MAX_PATH} characters`);
  }
  const parts = path.split("/").slice(1);
  if (parts.some((p) => p === "" || p === "." || p === ".." || hasControl(p))) {
    throw new Error(`${field}.path must not hold empty, "." or ".." segments or control characters`);
  }
  const [uid, root, ...rest] = parts;
  if (!validUid(uid) || root !== "files") return undefined;
  return { uid, path: `/${rest.join("/")}` };
}

/** `principals/users/<uid>` (a calendar's owner) as the uid. */
function principalUid(calendarData: unknown): string | undefined {
  if (!isObject(calendarData) || typeof calendarData.principaluri !== "string") return undefined;
  const m = /^principals\/users\/([^/]+)$/.exec(calendarData.principaluri);
  return m?.[1] !== undefined && validUid(m[1]) ? m[1] : undefined;
}

/**
 * Reads a parsed JSON body as a webhook_listeners envelope. Node events name the changed paths,
 * grouped by user; calendar object events name the calendar's owner (or the acting user); any
 * other event class, and nodes outside a user's files, are `ignored`.
 */
export function parseDelivery(body: unknown): ParsedDelivery | PayloadProblem {
  if (!isObject(body)) return { problem: "the body must be a JSON object (webhook_listeners' envelope)" };
  const { event, time, user } = body;
  if (!isObject(event) || typeof event.class !== "string" || event.class.length === 0) {
    return { problem: 'the body has no "event" object with a "class" string' };
  }
  if (typeof time !== "number" || !Number.isSafeInteger(time) || time <= 0) {
    return { problem: 'the body has no "time" (the event time in Unix seconds)' };
  }
  const eventClass = event.class.slice(0, 200);
  const at = new Date(time * 1000);
  const ignored = (reason: string): ParsedDelivery => ({ kind: "ignored", eventClass, time: at, reason });

  if (NODE_EVENT.test(event.class)) {
    const fields = TWO_NODE_EVENT.test(event.class) ? ["source", "target"] : ["node"];
    const byUid = new Map<string, Set<string>>();
    for (const field of fields) {
      const node = event[field];
      if (!isObject(node)) return { problem: `event.${field} must be an object with a "path"` };
      let found;
      try {
        found = nodePath(node.path, `event.${field}`);
      } catch (err) {
        return { problem: (err as Error).message };
      }
      if (found === undefined) continue;
      const paths = byUid.get(found.uid) ?? new Set<string>();
      paths.add(found.path);
      byUid.set(found.uid, paths);
    }
    if (byUid.size === 0) return ignored("the node is not in a user's files");
    return {
      kind: "change",
      eventClass,
      time: at,
      changes: [...byUid].map(([uid, paths]) => ({ uid, paths: [...paths] })),
    };
  }
  if (CALENDAR_EVENT.test(event.class)) {
    const uid =
      principalUid(event.calendarData) ?? (isObject(user) && validUid(user.uid) ? user.uid : undefined);
    if (uid === undefined) return ignored("the calendar has no user owner");
    return { kind: "change", eventClass, time: at, changes: [{ uid, paths: [] }] };
  }
  return ignored("not an event the content index follows");
}

/** How far ahead of the gateway's clock an event time may be (clock skew). */
export const FUTURE_SKEW_MS = 5 * 60_000;

/** Why an event time is refused (older than `maxAgeMs`, or too far ahead), or undefined when it is fine. */
export function eventTimeProblem(time: Date, now: Date, maxAgeMs: number): string | undefined {
  const age = now.getTime() - time.getTime();
  if (age > maxAgeMs) {
    return `the event time ${time.toISOString()} is more than ${Math.round(maxAgeMs / 1000)} seconds old (WEBHOOK_MAX_AGE_SECONDS); an old or replayed delivery is not taken`;
  }
  if (-age > FUTURE_SKEW_MS) {
    return `the event time ${time.toISOString()} is ahead of the gateway's clock; check the clocks of Nextcloud and the gateway`;
  }
  return undefined;
}
