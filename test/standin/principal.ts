// PROPFIND answers that Nextcloud's DAV server gives itself and Radicale cannot: the user principal
// at /remote.php/dav/principals/users/<uid>/ (current-user-principal, calendar-home-set,
// addressbook-home-set, calendar-user-address-set) and current-user-principal on /remote.php/dav/.
import type { StandinUser } from "./auth.ts";
import { escapeXml } from "./respond.ts";

const NS: Record<string, string> = {
  d: "DAV:",
  cal: "urn:ietf:params:xml:ns:caldav",
  card: "urn:ietf:params:xml:ns:carddav",
  s: "http://sabredav.org/ns",
  oc: "http://owncloud.org/ns",
  nc: "http://nextcloud.com/ns",
};

/** `{namespace}local-name` of each property a PROPFIND body asks for; undefined means allprop. */
export function requestedProps(body: string): string[] | undefined {
  const prop = /<(?:[\w.-]+:)?prop\b[^>]*>([\s\S]*?)<\/(?:[\w.-]+:)?prop>/.exec(body);
  if (body.trim() === "" || prop?.[1] === undefined) return undefined;
  const prefixes = new Map<string, string>();
  for (const m of body.matchAll(/xmlns(?::([\w.-]+))?\s*=\s*["']([^"']*)["']/g)) {
    prefixes.set(m[1] ?? "", m[2] ?? "");
  }
  const out: string[] = [];
  for (const m of prop[1].matchAll(/<(?:([\w.-]+):)?([\w.-]+)[^>]*?>/g)) {
    const inline = /xmlns\s*=\s*["']([^"']*)["']/.exec(m[0])?.[1];
    out.push(`{${inline ?? prefixes.get(m[1] ?? "") ?? ""}}${m[2] ?? ""}`);
  }
  return out;
}

type Props = Record<string, string | undefined>;

function multistatus(href: string, known: Props, body: string): string {
  const asked = requestedProps(body) ?? Object.keys(known).filter((k) => known[k] !== undefined);
  const found: string[] = [];
  const missing: string[] = [];
  asked.forEach((clark, i) => {
    const [, ns = "", name = ""] = /^\{([^}]*)\}(.*)$/.exec(clark) ?? [];
    const prefix = Object.entries(NS).find(([, uri]) => uri === ns)?.[0];
    const tag = prefix === undefined ? `x${String(i)}:${name}` : `${prefix}:${name}`;
    const decl = prefix === undefined ? ` xmlns:x${String(i)}="${escapeXml(ns)}"` : "";
    const value = known[clark];
    if (value === undefined) missing.push(`<${tag}${decl}/>`);
    else found.push(`<${tag}${decl}>${value}</${tag}>`);
  });
  const propstat = (props: string[], status: string) =>
    props.length === 0
      ? ""
      : `<d:propstat><d:prop>${props.join("")}</d:prop><d:status>HTTP/1.1 ${status}</d:status></d:propstat>`;
  const xmlns = Object.entries(NS)
    .map(([p, uri]) => ` xmlns:${p}="${uri}"`)
    .join("");
  return (
    `<?xml version="1.0"?>\n<d:multistatus${xmlns}><d:response><d:href>${escapeXml(href)}</d:href>` +
    `${propstat(found, "200 OK")}${propstat(missing, "404 Not Found")}</d:response></d:multistatus>\n`
  );
}

const href = (h: string) => `<d:href>${escapeXml(h)}</d:href>`;

/** The user's principal; a home is left out (404 propstat) when its app is off. */
export function principalResponse(
  body: string,
  user: StandinUser,
  homes: { calendarHome: string | undefined; addressbookHome: string | undefined },
): string {
  const self = `/remote.php/dav/principals/users/${encodeURIComponent(user.uid)}/`;
  const known: Props = {
    "{DAV:}resourcetype": "<d:principal/>",
    "{DAV:}displayname": escapeXml(user.displayName),
    "{DAV:}current-user-principal": href(self),
    "{DAV:}principal-URL": href(self),
    "{DAV:}principal-collection-set": href("/remote.php/dav/principals/"),
    "{DAV:}alternate-URI-set": user.email === null ? "" : href(`mailto:${user.email}`),
    "{urn:ietf:params:xml:ns:caldav}calendar-home-set":
      homes.calendarHome === undefined ? undefined : href(homes.calendarHome),
    "{urn:ietf:params:xml:ns:caldav}calendar-user-address-set":
      (user.email === null ? "" : href(`mailto:${user.email}`)) + href(self),
    "{urn:ietf:params:xml:ns:carddav}addressbook-home-set":
      homes.addressbookHome === undefined ? undefined : href(homes.addressbookHome),
    "{http://sabredav.org/ns}email-address": user.email === null ? undefined : escapeXml(user.email),
  };
  return multistatus(self, known, body);
}

/** PROPFIND on /remote.php/dav/: where a client discovers its principal (RFC 5397). */
export function rootResponse(body: string, user: StandinUser): string {
  const self = `/remote.php/dav/principals/users/${encodeURIComponent(user.uid)}/`;
  return multistatus(
    "/remote.php/dav/",
    { "{DAV:}resourcetype": "<d:collection/>", "{DAV:}current-user-principal": href(self) },
    body,
  );
}
