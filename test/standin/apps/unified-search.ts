// Nextcloud's unified search (core `/ocs/v2.php/search/providers` and `…/{providerId}/search`) over
// what the stand-in stores, in the shapes of core.openapi.json (UnifiedSearchProvider,
// UnifiedSearchResult) and with each provider's entries as the real providers build them:
// - files (apps/files FilesSearchProvider): name LIKE %term%, newest first, paginated by offset,
//   attributes {fileId, path}, resourceUrl /index.php/f/<fileId>;
// - notes (nextcloud/notes SearchProvider): title, category and content, complete (no cursor),
//   resourceUrl /index.php/apps/notes/note/<id>;
// - calendar and tasks (apps/dav Events/TasksSearchProvider): SUMMARY, LOCATION, DESCRIPTION,
//   CATEGORIES…, paginated by offset, resourceUrl deep links that carry the calendar object;
// - contacts (apps/dav ContactsSearchProvider): FN, EMAIL, NOTE…, resourceUrl
//   /index.php/apps/contacts/direct/contact/<UID>~<addressbook>;
// - settings: a provider that never finds user content, as real instances have several.
// A provider that does not exist answers 400 with a string, like SearchController.
import { readdir, readFile, stat } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import { sendOcs } from "../ocs.ts";
import type { OcsRequest, StandinApp, StandinAppFactory, StandinServices } from "./types.ts";

interface Provider {
  id: string;
  appId: string;
  name: string;
  icon: string;
  order: number;
  filters: Record<string, string>;
  search(q: Query): Promise<{ entries: Entry[]; isPaginated: boolean; cursor: number | string | null }>;
}

interface Query {
  uid: string;
  base: string;
  term: string;
  limit: number;
  cursor: number;
  since: number | undefined;
  until: number | undefined;
}

interface Entry {
  thumbnailUrl: string;
  title: string;
  subline: string;
  resourceUrl: string;
  icon: string;
  rounded: boolean;
  attributes: Record<string, string> | [];
}

const entry = (e: Omit<Entry, "thumbnailUrl" | "rounded" | "attributes"> & Partial<Entry>): Entry => ({
  thumbnailUrl: "",
  rounded: false,
  attributes: [],
  ...e,
});

const COMMON = {
  term: "string",
  since: "datetime",
  until: "datetime",
  person: "person",
  "title-only": "bool",
};

/** Every file under `dir` (recursively), with its path relative to `root`, for the files provider. */
async function walk(
  root: string,
  dir = root,
): Promise<{ rel: string; ino: number; mtime: number; dir: boolean }[]> {
  const out: { rel: string; ino: number; mtime: number; dir: boolean }[] = [];
  for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const p = join(dir, e.name);
    const st = await stat(p);
    out.push({
      rel: relative(root, p).split(sep).join("/"),
      ino: st.ino,
      mtime: Math.floor(st.mtimeMs / 1000),
      dir: e.isDirectory(),
    });
    if (e.isDirectory()) out.push(...(await walk(root, p)));
  }
  return out;
}

/** The unfolded property lines of an iCalendar or vCard text. */
function props(text: string): { name: string; params: string; value: string }[] {
  return text
    .replace(/\r?\n[ \t]/g, "")
    .split(/\r?\n/)
    .flatMap((line) => {
      const m = /^([A-Za-z-]+)((?:;[^:]*)?):(.*)$/.exec(line);
      return m ? [{ name: (m[1] ?? "").toUpperCase(), params: m[2] ?? "", value: m[3] ?? "" }] : [];
    });
}

const unescape = (v: string) => v.replace(/\\n/gi, "\n").replace(/\\([,;\\])/g, "$1");

/** Each collection of one user in Radicale's storage, with its tag (VCALENDAR, VADDRESSBOOK) and items. */
async function collections(
  storage: string | undefined,
  uid: string,
): Promise<{ uri: string; tag: string; items: { name: string; text: string }[] }[]> {
  if (storage === undefined) return [];
  const home = join(storage, "collection-root", uid);
  const out = [];
  for (const c of await readdir(home, { withFileTypes: true }).catch(() => [])) {
    if (!c.isDirectory() || c.name.startsWith(".")) continue;
    const dir = join(home, c.name);
    const propsFile = await readFile(join(dir, ".Radicale.props"), "utf8").catch(() => "{}");
    const tag = (JSON.parse(propsFile) as { tag?: string }).tag ?? "";
    const items = [];
    for (const f of await readdir(dir, { withFileTypes: true })) {
      if (f.isFile() && !f.name.startsWith("."))
        items.push({ name: f.name, text: await readFile(join(dir, f.name), "utf8") });
    }
    out.push({ uri: c.name, tag, items });
  }
  return out;
}

const matches = (term: string, ...values: (string | undefined)[]) =>
  values.some((v) => v !== undefined && v.toLowerCase().includes(term.toLowerCase()));

const page = <T>(all: T[], q: Query) => all.slice(q.cursor, q.cursor + q.limit);

function providers(services: StandinServices): Provider[] {
  const groupware = (component: "VEVENT" | "VTODO") => async (q: Query) => {
    const hits: Entry[] = [];
    for (const c of await collections(await services.groupwareStorage("calendar"), q.uid)) {
      if (c.tag !== "VCALENDAR") continue;
      for (const item of c.items) {
        const lines = props(item.text);
        if (!lines.some((l) => l.name === "BEGIN" && l.value === component)) continue;
        // The component's own properties: a VTIMEZONE before it has DTSTARTs of its own.
        const begin = lines.findIndex((l) => l.name === "BEGIN" && l.value === component);
        const get = (n: string) => {
          const v = lines.slice(begin).find((l) => l.name === n)?.value;
          return v === undefined ? undefined : unescape(v);
        };
        if (!matches(q.term, get("SUMMARY"), get("LOCATION"), get("DESCRIPTION"), get("CATEGORIES")))
          continue;
        const dav = `/remote.php/dav/calendars/${q.uid}/${c.uri}/${item.name}`;
        hits.push(
          entry({
            title: get("SUMMARY") ?? (component === "VEVENT" ? "Untitled event" : "Untitled task"),
            subline: get("DTSTART") ?? get("DUE") ?? "",
            resourceUrl:
              component === "VEVENT"
                ? `${q.base}/index.php/apps/calendar/edit/${Buffer.from(dav).toString("base64")}`
                : `${q.base}/index.php/apps/tasks/calendars/${c.uri}/tasks/${item.name}`,
            icon: component === "VEVENT" ? "icon-calendar-dark" : "icon-checkmark",
          }),
        );
      }
    }
    const entries = page(hits, q);
    return { entries, isPaginated: true, cursor: q.cursor + entries.length };
  };

  return [
    {
      id: "files",
      appId: "files",
      name: "Files",
      icon: "/apps/files/img/app.svg",
      order: 5,
      filters: {
        ...COMMON,
        "min-size": "int",
        "max-size": "int",
        mime: "string",
        type: "string",
        path: "string",
        "is-favorite": "bool",
      },
      async search(q) {
        const all = (await walk(services.filesRoot(q.uid)))
          .filter((f) => matches(q.term, f.rel.split("/").pop()))
          .filter(
            (f) =>
              (q.since === undefined || f.mtime >= q.since) && (q.until === undefined || f.mtime <= q.until),
          )
          .sort((a, b) => b.mtime - a.mtime || a.rel.localeCompare(b.rel));
        const entries = page(all, q).map((f) => {
          const path = `/${f.rel}`;
          const folder = path.slice(0, path.lastIndexOf("/"));
          return entry({
            title: f.rel.split("/").pop() ?? "",
            subline: folder === "" ? "" : `in ${folder.slice(1)}`,
            resourceUrl: `${q.base}/index.php/f/${String(f.ino)}`,
            icon: f.dir ? "icon-folder" : "icon-filetype-text",
            attributes: { fileId: String(f.ino), path },
          });
        });
        return { entries, isPaginated: true, cursor: q.cursor + q.limit };
      },
    },
    {
      id: "notes",
      appId: "notes",
      name: "Notes",
      icon: "/apps/notes/img/notes.svg",
      order: 4,
      filters: { term: "string" },
      async search(q) {
        const base = join(services.filesRoot(q.uid), services.notesPath(q.uid));
        const notes = [];
        for (const f of await walk(base)) {
          if (f.dir || !/\.(md|txt)$/.test(f.rel)) continue;
          const content = await readFile(join(base, ...f.rel.split("/")), "utf8");
          const title = (f.rel.split("/").pop() ?? "").replace(/\.(md|txt)$/, "");
          const category = f.rel.includes("/") ? f.rel.slice(0, f.rel.lastIndexOf("/")) : "";
          if (matches(q.term, title, category, content)) notes.push({ ...f, title, content, category });
        }
        notes.sort((a, b) => b.mtime - a.mtime);
        return {
          entries: notes.map((n) =>
            entry({
              title: n.title,
              subline: n.content.split("\n").find((l) => l.trim() !== "" && !l.startsWith("#")) ?? n.category,
              resourceUrl: `${q.base}/index.php/apps/notes/note/${String(n.ino)}`,
              icon: "icon-notes-trans",
            }),
          ),
          isPaginated: false,
          cursor: null,
        };
      },
    },
    {
      id: "calendar",
      appId: "calendar",
      name: "Events",
      icon: "/apps/calendar/img/calendar-dark.svg",
      order: 30,
      filters: COMMON,
      search: groupware("VEVENT"),
    },
    {
      id: "tasks",
      appId: "tasks",
      name: "Tasks",
      icon: "/apps/tasks/img/tasks-dark.svg",
      order: 35,
      filters: COMMON,
      search: groupware("VTODO"),
    },
    {
      id: "contacts",
      appId: "contacts",
      name: "Contacts",
      icon: "/apps/contacts/img/app-dark.svg",
      order: 25,
      filters: { ...COMMON, company: "string" },
      async search(q) {
        const hits: Entry[] = [];
        for (const c of await collections(await services.groupwareStorage("contacts"), q.uid)) {
          if (c.tag !== "VADDRESSBOOK") continue;
          for (const item of c.items) {
            const lines = props(item.text);
            const all = (n: string) => lines.filter((l) => l.name === n).map((l) => unescape(l.value));
            if (!matches(q.term, ...all("FN"), ...all("EMAIL"), ...all("NOTE"), ...all("ORG"), ...all("TEL")))
              continue;
            hits.push(
              entry({
                title: all("FN")[0] ?? "",
                subline: all("EMAIL")[0] ?? "",
                resourceUrl: `${q.base}/index.php/apps/contacts/direct/contact/${encodeURIComponent(`${all("UID")[0] ?? ""}~${c.uri}`)}`,
                icon: "icon-contacts-dark",
                rounded: true,
              }),
            );
          }
        }
        const entries = page(hits, q);
        return { entries, isPaginated: true, cursor: q.cursor + entries.length };
      },
    },
    {
      id: "settings",
      appId: "settings",
      name: "Settings",
      icon: "/core/img/actions/settings-dark.svg",
      order: -1,
      filters: { term: "string" },
      search(q) {
        const entries = matches(q.term, "Personal info")
          ? [
              entry({
                title: "Personal info",
                subline: "",
                resourceUrl: `${q.base}/index.php/settings/user`,
                icon: "icon-settings-dark",
              }),
            ]
          : [];
        return Promise.resolve({ entries, isPaginated: false, cursor: null });
      },
    },
  ];
}

/** A unix time from a `since`/`until` filter (an ISO 8601 date or date-time), or undefined. */
function time(value: string | null): number | undefined {
  if (value === null || value === "") return undefined;
  const t = Date.parse(value);
  return Number.isNaN(t) ? undefined : Math.floor(t / 1000);
}

export interface UnifiedSearchStandin extends StandinApp {
  /** The searches received, in order: provider id and query parameters. */
  readonly searches: { provider: string; params: Record<string, string> }[];
}

export const unifiedSearch: StandinAppFactory = (services) => {
  const all = providers(services);
  const searches: { provider: string; params: Record<string, string> }[] = [];
  const app: UnifiedSearchStandin = {
    id: "search",
    searches,
    ocsRoutes: [
      {
        pattern: /^search\/providers$/,
        handle({ req, res, url, version }: OcsRequest) {
          sendOcs(
            req,
            res,
            url,
            version,
            200,
            all
              .map(({ id, appId, name, icon, order, filters }) => ({
                id,
                appId,
                name,
                icon,
                order,
                triggers: [id],
                filters,
                inAppSearch: false,
              }))
              .sort((a, b) => a.order - b.order),
          );
        },
      },
      {
        pattern: /^search\/providers\/([^/]+)\/search$/,
        async handle({ req, res, url, version, match, user }: OcsRequest) {
          const id = decodeURIComponent(match[1] ?? "");
          searches.push({ provider: id, params: Object.fromEntries(url.searchParams) });
          const provider = all.find((p) => p.id === id);
          if (provider === undefined) {
            sendOcs(req, res, url, version, 400, "Provider not found");
            return;
          }
          const limit = Math.min(25, Math.max(1, Number(url.searchParams.get("limit") ?? "5") || 5));
          const cursor = Math.max(0, Number(url.searchParams.get("cursor") ?? "0") || 0);
          const base = `http://${req.headers.host ?? "127.0.0.1"}`;
          const result = await provider.search({
            uid: user.uid,
            base,
            term: url.searchParams.get("term") ?? "",
            limit,
            cursor,
            since: time(url.searchParams.get("since")),
            until: time(url.searchParams.get("until")),
          });
          sendOcs(req, res, url, version, 200, { name: provider.name, ...result });
        },
      },
    ],
  };
  return app;
};
