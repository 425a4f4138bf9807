// The CalDAV client of one user (RFC 4791) over the shared DAV transport: calendars in the user's
// calendar home (list, MKCALENDAR, PROPPATCH, DELETE) and their objects (calendar-query REPORT,
// GET, PUT with If-Match / If-None-Match, DELETE with If-Match). Names are segments, never URL text.
import {
  childOf,
  DAV_NS,
  davMultistatus,
  davRequest,
  davRoot,
  encodeSegments,
  hrefNames,
  NextcloudError,
  propOf,
  type DavResponse,
  type NextcloudClient,
  type NextcloudClientOptions,
  type XmlElement,
} from "../../nextcloud/index.ts";
import { ianaName } from "./timezone.ts";

/** The CalDAV namespace (RFC 4791). */
export const CALDAV_NS = "urn:ietf:params:xml:ns:caldav";
/** Calendar server extensions (getctag). */
export const CS_NS = "http://calendarserver.org/ns/";
/** Apple's iCal namespace (calendar-color). */
export const APPLE_NS = "http://apple.com/ns/ical/";

/** The components a calendar can hold. */
export type Component = "VEVENT" | "VTODO" | "VJOURNAL";

/** One calendar collection of the user (a type, so it fits loose output schemas). */
export type CalendarInfo = {
  /** Its name in the URL (e.g. "personal"): the id the tools use. */
  name: string;
  displayName: string;
  color: string | null;
  /** Changes whenever an object in it changes. */
  ctag: string | null;
  components: Component[];
  /** The IANA zone from CALDAV:calendar-timezone, when it has one the gateway knows. */
  timeZone: string | null;
};

/** One calendar object resource as stored. */
export interface StoredObject {
  /** Its name in the calendar (e.g. "team-sync.ics"). */
  name: string;
  etag: string;
  data: string;
}

const ALL_COMPONENTS: Component[] = ["VEVENT", "VTODO", "VJOURNAL"];
const XML = "application/xml; charset=utf-8";
const ICS = "text/calendar; charset=utf-8";

/** Text for an XML body: &, <, >, quotes escaped. */
export function xmlText(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${String(c.charCodeAt(0))};`);
}

/** An instant as iCalendar UTC text ("20261020T080000Z") for a time-range filter. */
export function utcStamp(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d{3}/, "");
}

function isCalendar(r: DavResponse): boolean {
  const type = propOf(r, DAV_NS, "resourcetype");
  return type !== undefined && childOf(type, CALDAV_NS, "calendar") !== undefined;
}

function componentsOf(el: XmlElement | undefined): Component[] {
  if (el === undefined) return [...ALL_COMPONENTS];
  const names = el.children
    .filter((c) => c.ns === CALDAV_NS && c.name === "comp")
    .map((c) => (c.attributes.name ?? "").toUpperCase())
    .filter((n): n is Component => (ALL_COMPONENTS as string[]).includes(n));
  return names.length > 0 ? names : [...ALL_COMPONENTS];
}

function zoneOf(el: XmlElement | undefined): string | null {
  const tzid = el === undefined ? null : /^TZID:(.+)$/m.exec(el.text.replace(/\r\n[ \t]/g, ""));
  return tzid?.[1] === undefined ? null : ianaName(tzid[1].trim());
}

/** The CalDAV client of one user of one Nextcloud. */
export class CalDavClient {
  readonly #options: NextcloudClientOptions;
  readonly #uid: string;
  readonly #signal: AbortSignal | undefined;

  constructor(options: NextcloudClientOptions, uid: string, signal?: AbortSignal) {
    this.#options = options;
    this.#uid = uid;
    this.#signal = signal;
  }

  /** The client of the user a Nextcloud client acts for. */
  static async of(nextcloud: NextcloudClient, signal?: AbortSignal): Promise<CalDavClient> {
    return new CalDavClient(nextcloud.options, await nextcloud.userId(), signal);
  }

  #base() {
    return { tree: "calendars" as const, uid: this.#uid, ...(this.#signal ? { signal: this.#signal } : {}) };
  }

  /**
   * Whether the user has a calendar home: 207 yes, 404 no; anything else throws (unknown).
   * @see https://www.rfc-editor.org/rfc/rfc4791#section-6.2.1
   */
  async hasHome(): Promise<boolean> {
    const res = await davRequest(this.#options, {
      ...this.#base(),
      method: "PROPFIND",
      path: [],
      collection: true,
      what: "the calendar home",
      depth: "0",
      contentType: XML,
      body: `<?xml version="1.0" encoding="utf-8"?><d:propfind xmlns:d="DAV:"><d:prop><d:resourcetype/></d:prop></d:propfind>`,
      accept: [207, 404],
    });
    return res.status === 207;
  }

  /** The user's calendars (and task lists), by name. */
  async listCalendars(): Promise<CalendarInfo[]> {
    const responses = await davMultistatus(this.#options, {
      ...this.#base(),
      method: "PROPFIND",
      path: [],
      collection: true,
      what: "your calendars",
      depth: "1",
      contentType: XML,
      body:
        `<?xml version="1.0" encoding="utf-8"?><d:propfind xmlns:d="DAV:" xmlns:c="${CALDAV_NS}" xmlns:cs="${CS_NS}" xmlns:a="${APPLE_NS}"><d:prop>` +
        `<d:resourcetype/><d:displayname/><cs:getctag/><c:supported-calendar-component-set/><a:calendar-color/><c:calendar-timezone/>` +
        `</d:prop></d:propfind>`,
    });
    const root = davRoot("calendars", this.#uid);
    const out: CalendarInfo[] = [];
    for (const r of responses) {
      const names = hrefNames(this.#options.baseUrl, root, r.href);
      if (names?.length !== 1 || names[0] === undefined || !isCalendar(r)) continue;
      const name = names[0];
      const display = propOf(r, DAV_NS, "displayname")?.text.trim();
      const color = propOf(r, APPLE_NS, "calendar-color")?.text.trim();
      const ctag = propOf(r, CS_NS, "getctag")?.text.trim();
      out.push({
        name,
        displayName: display === undefined || display === "" ? name : display,
        color: color === undefined || color === "" ? null : color,
        ctag: ctag === undefined || ctag === "" ? null : ctag,
        components: componentsOf(propOf(r, CALDAV_NS, "supported-calendar-component-set")),
        timeZone: zoneOf(propOf(r, CALDAV_NS, "calendar-timezone")),
      });
    }
    return out.sort((a, b) => a.name.localeCompare(b.name));
  }

  /**
   * Creates a calendar (MKCALENDAR) with a display name, components, color and zone (a VTIMEZONE).
   * @see https://www.rfc-editor.org/rfc/rfc4791#section-5.3.1
   */
  async createCalendar(
    name: string,
    o: { displayName: string; components: Component[]; color?: string; vtimezone?: string },
  ): Promise<void> {
    const comps = o.components.map((c) => `<c:comp name="${c}"/>`).join("");
    await davRequest(this.#options, {
      ...this.#base(),
      method: "MKCALENDAR",
      path: [name],
      collection: true,
      what: `calendar "${name}"`,
      contentType: XML,
      body:
        `<?xml version="1.0" encoding="utf-8"?><c:mkcalendar xmlns:d="DAV:" xmlns:c="${CALDAV_NS}" xmlns:a="${APPLE_NS}"><d:set><d:prop>` +
        `<d:displayname>${xmlText(o.displayName)}</d:displayname>` +
        `<c:supported-calendar-component-set>${comps}</c:supported-calendar-component-set>` +
        (o.color === undefined ? "" : `<a:calendar-color>${xmlText(o.color)}</a:calendar-color>`) +
        (o.vtimezone === undefined
          ? ""
          : `<c:calendar-timezone>${xmlText(o.vtimezone)}</c:calendar-timezone>`) +
        `</d:prop></d:set></c:mkcalendar>`,
    });
  }

  /**
   * Changes a calendar's display name and/or color (PROPPATCH); a refused property is an error.
   * @see https://www.rfc-editor.org/rfc/rfc4918#section-9.2
   */
  async updateCalendar(name: string, o: { displayName?: string; color?: string }): Promise<void> {
    const props =
      (o.displayName === undefined ? "" : `<d:displayname>${xmlText(o.displayName)}</d:displayname>`) +
      (o.color === undefined ? "" : `<a:calendar-color>${xmlText(o.color)}</a:calendar-color>`);
    const responses = await davMultistatus(this.#options, {
      ...this.#base(),
      method: "PROPPATCH",
      path: [name],
      collection: true,
      what: `calendar "${name}"`,
      contentType: XML,
      body: `<?xml version="1.0" encoding="utf-8"?><d:propertyupdate xmlns:d="DAV:" xmlns:a="${APPLE_NS}"><d:set><d:prop>${props}</d:prop></d:set></d:propertyupdate>`,
    });
    const refused = responses.flatMap((r) => r.propstats).find((p) => p.status >= 300);
    if (refused !== undefined) {
      throw new NextcloudError(
        "conflict",
        `Nextcloud refused to change calendar "${name}" (${String(refused.status)}); nothing was changed.`,
        { httpStatus: refused.status },
      );
    }
  }

  /** Deletes a calendar with everything in it. */
  async deleteCalendar(name: string): Promise<void> {
    await davRequest(this.#options, {
      ...this.#base(),
      method: "DELETE",
      path: [name],
      collection: true,
      what: `calendar "${name}"`,
    });
  }

  /**
   * The objects of one calendar holding `component`, those overlapping [from, to) when given
   * (recurrences count: the server expands them to filter, but returns the stored objects).
   * @see https://www.rfc-editor.org/rfc/rfc4791#section-7.8
   */
  async query(
    calendar: string,
    component: Component,
    range?: { from: number; to: number },
  ): Promise<StoredObject[]> {
    const timeRange =
      range === undefined
        ? ""
        : `<c:time-range start="${utcStamp(range.from)}" end="${utcStamp(range.to)}"/>`;
    return this.#report(
      calendar,
      `<c:calendar-query xmlns:d="DAV:" xmlns:c="${CALDAV_NS}"><d:prop><d:getetag/><c:calendar-data/></d:prop>` +
        `<c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="${component}">${timeRange}</c:comp-filter></c:comp-filter></c:filter></c:calendar-query>`,
    );
  }

  /**
   * Named objects of one calendar with their ETags and data (calendar-multiget); names that are gone
   * are left out.
   * @see https://www.rfc-editor.org/rfc/rfc4791#section-7.9
   */
  async multiget(calendar: string, names: readonly string[]): Promise<StoredObject[]> {
    if (names.length === 0) return [];
    const root = davRoot("calendars", this.#uid);
    const base = new URL(this.#options.baseUrl).pathname.replace(/\/+$/, "");
    const hrefs = names.map(
      (n) => `<d:href>${xmlText(`${base}${root}${encodeSegments([calendar, n])}`)}</d:href>`,
    );
    const objects = await this.#report(
      calendar,
      `<c:calendar-multiget xmlns:d="DAV:" xmlns:c="${CALDAV_NS}"><d:prop><d:getetag/><c:calendar-data/></d:prop>` +
        `${hrefs.join("")}</c:calendar-multiget>`,
    );
    return objects.filter((o) => o.data.trim() !== "");
  }

  /**
   * A REPORT on one calendar (`report`: its XML body's root element): the objects it answers with
   * their ETags and data; answers for other collections, or without data or ETag, are left out.
   */
  async #report(calendar: string, report: string): Promise<StoredObject[]> {
    const responses = await davMultistatus(this.#options, {
      ...this.#base(),
      method: "REPORT",
      path: [calendar],
      collection: true,
      what: `calendar "${calendar}"`,
      depth: "1",
      contentType: XML,
      body: `<?xml version="1.0" encoding="utf-8"?>${report}`,
    });
    const root = davRoot("calendars", this.#uid);
    const out: StoredObject[] = [];
    for (const r of responses) {
      const names = hrefNames(this.#options.baseUrl, root, r.href);
      const data = propOf(r, CALDAV_NS, "calendar-data")?.text;
      const etag = propOf(r, DAV_NS, "getetag")?.text.trim();
      if (names?.length !== 2 || names[0] !== calendar || names[1] === undefined) continue;
      if (data === undefined || etag === undefined) continue;
      out.push({ name: names[1], etag, data });
    }
    return out;
  }

  /** One object with its ETag. */
  async get(calendar: string, name: string, what: string): Promise<StoredObject> {
    const res = await davRequest(this.#options, {
      ...this.#base(),
      method: "GET",
      path: [calendar, name],
      what,
      headers: { Accept: "text/calendar" },
    });
    return { name, etag: res.headers.get("etag") ?? "", data: res.text() };
  }

  /**
   * Stores an object: a new one only if none has the name (If-None-Match: *), an existing one only
   * if it still has `etag` (If-Match); a 412 changes nothing. Returns the new ETag when the server
   * sends one.
   * @see https://www.rfc-editor.org/rfc/rfc4791#section-5.3.4
   */
  async put(
    calendar: string,
    name: string,
    data: string,
    precondition: { etag: string } | { create: true },
    what: string,
  ): Promise<string | null> {
    const res = await davRequest(this.#options, {
      ...this.#base(),
      method: "PUT",
      path: [calendar, name],
      what,
      contentType: ICS,
      body: data,
      headers: "etag" in precondition ? { "If-Match": precondition.etag } : { "If-None-Match": "*" },
    });
    return res.headers.get("etag");
  }

  /** Deletes an object only if it still has `etag`. */
  async delete(calendar: string, name: string, etag: string, what: string): Promise<void> {
    await davRequest(this.#options, {
      ...this.#base(),
      method: "DELETE",
      path: [calendar, name],
      what,
      headers: { "If-Match": etag },
    });
  }
}
