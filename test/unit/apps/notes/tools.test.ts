// The notes tools' pure parts: file-safe titles, the version tag, excerpts, appending, input limits
// and the declared scopes and annotations. The end-to-end behaviour is in test/integration/tools.
import { describe, expect, it } from "vitest";
import { notesTools } from "../../../../src/apps/notes/index.ts";
import {
  appended,
  excerpt,
  indexOfIgnoringCase,
  noteConflict,
  noteEtag,
  safeCategory,
  safeTitle,
  type StoredNote,
} from "../../../../src/apps/notes/model.ts";

const note: StoredNote = {
  id: 42,
  title: "Plans",
  category: "Work",
  modified: 1_750_000_000,
  favorite: false,
  content: "# Plans\nShip it.",
};

const tool = (name: string) => {
  const t = notesTools.find((x) => x.name === name);
  if (t === undefined) throw new Error(`no tool ${name}`);
  return t;
};

describe("titles and categories", () => {
  it("drops the characters file names cannot hold and surrounding spaces and dots", () => {
    expect(safeTitle('Trip: Lisbon? <draft> "v2" a/b\\c*|')).toBe("Trip Lisbon draft v2 abc");
    expect(safeTitle("  ..hidden.. ")).toBe("hidden");
    expect(safeTitle("line\nbreak\ttab")).toBe("linebreaktab");
    expect(safeTitle(" ./ ")).toBe("");
  });

  it("keeps / as the sub-category separator and drops empty segments", () => {
    expect(safeCategory("/Work//Meetings: Q3/")).toBe("Work/Meetings Q3");
    expect(safeCategory("..")).toBe("");
  });
});

describe("the note etag", () => {
  it("changes with every field a tool shows except the favourite flag", () => {
    const base = noteEtag(note);
    expect(base).toMatch(/^[0-9a-f]{32}$/);
    expect(noteEtag({ ...note })).toBe(base);
    expect(noteEtag({ ...note, favorite: true })).toBe(base);
    for (const change of [{ id: 43 }, { title: "P" }, { category: "" }, { modified: 1 }, { content: "x" }]) {
      expect(noteEtag({ ...note, ...change })).not.toBe(base);
    }
  });

  it("is what a conflict reports, with the current title and content", () => {
    const err = noteConflict({ ...note, content: "y".repeat(3000) });
    expect(err.kind).toBe("precondition_failed");
    expect(err.description).toContain(noteEtag({ ...note, content: "y".repeat(3000) }));
    expect(err.description).toContain('title "Plans", category "Work"');
    expect(err.description).toContain("[1000 more characters]");
  });
});

describe("search helpers", () => {
  it("finds a substring ignoring case, treating regex characters literally", () => {
    expect(indexOfIgnoringCase("Pack the BLUE umbrella", "blue Umbrella")).toBe(9);
    expect(indexOfIgnoringCase("cost (approx.) $5", "(APPROX.) $5")).toBe(5);
    expect(indexOfIgnoringCase("abc", "a.c*")).toBe(-1);
  });

  it("cuts an excerpt around the match onto one line", () => {
    const text = `${"a".repeat(100)}\nneedle\n${"b".repeat(300)}`;
    const e = excerpt(text, text.indexOf("needle"));
    expect(e.startsWith("…")).toBe(true);
    expect(e.endsWith("…")).toBe(true);
    expect(e).toContain("a needle b");
    expect(excerpt("short", -1)).toBe("short");
  });
});

describe("appending", () => {
  it("starts the text on a new line without adding blank lines", () => {
    expect(appended("", "x")).toBe("x");
    expect(appended("a", "x")).toBe("a\nx");
    expect(appended("a\n", "x")).toBe("a\nx");
  });
});

describe("input limits", () => {
  const errorOf = (name: string, args: unknown) => {
    const r = tool(name).input.safeParse(args);
    return r.success ? undefined : r.error.issues.map((i) => i.message).join("; ");
  };

  it("bounds title, content and ids with messages a model can act on", () => {
    expect(errorOf("notes_create", { title: "t".repeat(200) })).toBeUndefined();
    expect(errorOf("notes_create", { title: "t".repeat(201) })).toBe(
      "The title may have at most 200 characters.",
    );
    expect(errorOf("notes_create", { title: "ok", content: "é".repeat(512 * 1024 + 1) })).toMatch(
      /at most 1 MiB/,
    );
    expect(errorOf("notes_create", { title: "**" })).toMatch(/at least one character/);
    expect(errorOf("notes_get", { id: 1.5 })).toBe("The note id is a whole number.");
    expect(errorOf("notes_list", { limit: 201 })).toBe("The limit may be at most 200.");
    expect(errorOf("notes_search", { query: "" })).toBe("The query cannot be empty.");
    expect(errorOf("notes_append", { id: 1, text: "" })).toBe("The text to append cannot be empty.");
  });

  it("wants something to change in an update", () => {
    expect(errorOf("notes_update", { id: 1 })).toBe(
      "Give at least one of title, content or category to change.",
    );
    expect(errorOf("notes_update", { id: 1, category: "" })).toBeUndefined();
  });

  it("fills in defaults", () => {
    expect(tool("notes_list").input.parse({})).toEqual({ offset: 0, limit: 50, includeContent: false });
    expect(tool("notes_create").input.parse({ title: "x" })).toEqual({
      title: "x",
      content: "",
      category: "",
    });
  });
});

describe("declarations", () => {
  it("needs mcp:write exactly for the tools that change notes, all bound to the Notes app", () => {
    const readOnly = notesTools.filter((t) => t.annotations.readOnlyHint).map((t) => t.name);
    expect(readOnly).toEqual(["notes_list", "notes_search", "notes_get"]);
    for (const t of notesTools) {
      expect(t.capability).toBe("notes");
      expect(t.scopes).toEqual(t.annotations.readOnlyHint ? ["mcp:tools"] : ["mcp:tools", "mcp:write"]);
    }
  });

  it("marks delete and update destructive, and update and delete idempotent", () => {
    const hints = Object.fromEntries(notesTools.map((t) => [t.name, t.annotations]));
    expect(hints.notes_delete).toMatchObject({ destructiveHint: true, idempotentHint: true });
    expect(hints.notes_update).toMatchObject({ destructiveHint: true, idempotentHint: true });
    expect(hints.notes_create).toMatchObject({ destructiveHint: false, idempotentHint: false });
    expect(hints.notes_append).toMatchObject({ destructiveHint: false, idempotentHint: false });
  });
});
