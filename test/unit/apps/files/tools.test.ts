import { z } from "zod";
import { describe, expect, it } from "vitest";
import { allTools } from "../../../../src/app.ts";
import { createMcpServer, defineTool, ToolRegistry } from "../../../../src/mcp/index.ts";
import {
  entryLine,
  fileUri,
  formatBytes,
  parentOf,
  toEntry,
  userPath,
} from "../../../../src/apps/files/common.ts";
import { contentKind, filesRead, looksBinary } from "../../../../src/apps/files/read.ts";
import { filesTools } from "../../../../src/apps/files/index.ts";
import { connect, testContext } from "../../mcp/harness.ts";

const registry = new ToolRegistry(allTools);
const textOf = (result: object) =>
  ((result as { content?: { text?: string }[] }).content ?? [])[0]?.text ?? "";

describe("userPath", () => {
  it("normalises user-relative paths to /a/b", () => {
    expect(userPath("Documents/a.md")).toBe("/Documents/a.md");
    expect(userPath("/Documents//./a.md/")).toBe("/Documents/a.md");
    expect(userPath("")).toBe("/");
    expect(userPath("/")).toBe("/");
    expect(userPath("/a..b/..c")).toBe("/a..b/..c");
  });

  it("refuses '..', backslashes and NUL with a message naming the field and what to do", () => {
    expect(() => userPath("/Documents/../../etc", "to")).toThrow(
      'The to "/Documents/../../etc" contains "..": paths start at the root of your Nextcloud files and cannot go up; give the full path instead, e.g. "/Documents/a.md" (files_list on "/" shows the top-level folders); nothing was done.',
    );
    expect(() => userPath("..")).toThrow(/^The path "\.\." contains "\.\."/);
    expect(() => userPath("Documents\\a.md")).toThrow(
      /contains a backslash; Nextcloud paths use forward slashes, e.g. "\/Documents\/a.md"/,
    );
    expect(() => userPath("a\u0000b")).toThrow(/"a\\u0000b" contains a NUL character/);
  });
});

describe("files helpers", () => {
  it("parentOf names the folder holding a path", () => {
    expect(parentOf("/a/b/c.md")).toBe("/a/b");
    expect(parentOf("/a")).toBe("/");
    expect(parentOf("/")).toBe("/");
  });

  it("fileUri percent-encodes each segment under nextcloud://files", () => {
    expect(fileUri("/Photos/Summer 2025/a#1?.png")).toBe(
      "nextcloud://files/Photos/Summer%202025/a%231%3F.png",
    );
  });

  it("formatBytes reads like a person would write it", () => {
    expect(formatBytes(0)).toBe("0 B");
    expect(formatBytes(1023)).toBe("1023 B");
    expect(formatBytes(1536)).toBe("1.5 KiB");
    expect(formatBytes(256 * 1024)).toBe("256 KiB");
    expect(formatBytes(2 * 1024 * 1024)).toBe("2 MiB");
  });

  it("toEntry converts WebDAV details: folder type, ISO time, unquoted etag, no MIME type for folders", () => {
    const entry = toEntry({
      path: "/Docs",
      name: "Docs",
      type: "directory",
      size: 42,
      etag: '"abc"',
      lastModified: "Tue, 03 Jun 2025 10:00:00 GMT",
      contentType: "httpd/unix-directory",
      fileId: 7,
      permissions: "RGDNVCK",
      favorite: false,
    });
    expect(entry).toEqual({
      name: "Docs",
      path: "/Docs",
      type: "folder",
      size: 42,
      modified: "2025-06-03T10:00:00.000Z",
      etag: "abc",
      fileId: 7,
      permissions: "RGDNVCK",
      contentType: null,
    });
    expect(entryLine(entry)).toBe("/Docs/ (folder, modified 2025-06-03T10:00:00.000Z)");
  });

  it("contentKind tells text from binary by MIME type and leaves the rest to the content", () => {
    for (const t of ["text/markdown", "text/plain; charset=utf-8", "application/json", "image/svg+xml"]) {
      expect(contentKind(t), t).toBe("text");
    }
    for (const t of [
      "image/png",
      "application/pdf",
      "application/zip",
      "video/mp4",
      "application/vnd.oasis.opendocument.text",
    ]) {
      expect(contentKind(t), t).toBe("binary");
    }
    for (const t of [null, "", "application/octet-stream", "application/x-unknown"]) {
      expect(contentKind(t), String(t)).toBe("unknown");
    }
  });

  it("looksBinary finds a NUL byte near the start", () => {
    expect(looksBinary(new TextEncoder().encode("plain text ✓"))).toBe(false);
    expect(looksBinary(new Uint8Array([0x41, 0, 0x42]))).toBe(true);
    const late = new Uint8Array(10_000).fill(0x41);
    late[9_000] = 0;
    expect(looksBinary(late)).toBe(false);
  });
});

describe("files tools", () => {
  const byName = new Map(filesTools.map((t) => [t.name, t]));
  const readTools = ["files_list", "files_stat", "files_read", "files_search"];
  const writeTools = ["files_write", "files_mkdir", "files_move", "files_copy", "files_delete"];

  it("are the nine files tools, all tied to the files capability", () => {
    expect([...byName.keys()].sort()).toEqual([...readTools, ...writeTools].sort());
    for (const t of filesTools) expect(t.capability, t.name).toBe("files");
  });

  it("need mcp:tools to read and mcp:write as well to change anything", () => {
    for (const name of readTools) {
      expect(byName.get(name)?.scopes, name).toEqual(["mcp:tools"]);
      expect(byName.get(name)?.annotations, name).toEqual({
        readOnlyHint: true,
        destructiveHint: false,
        idempotentHint: true,
        openWorldHint: false, // open-world means beyond the user's Nextcloud (docs/tools.md)
      });
    }
    for (const name of writeTools) {
      expect(byName.get(name)?.scopes, name).toEqual(["mcp:tools", "mcp:write"]);
      expect(byName.get(name)?.annotations.readOnlyHint, name).toBe(false);
    }
  });

  it("declare which ones may destroy data and which can be repeated safely", () => {
    const hints = (name: string) => byName.get(name)?.annotations;
    expect(hints("files_delete")).toMatchObject({ destructiveHint: true, idempotentHint: true });
    expect(hints("files_write")).toMatchObject({ destructiveHint: true, idempotentHint: true });
    expect(hints("files_move")).toMatchObject({ destructiveHint: true, idempotentHint: false });
    expect(hints("files_copy")).toMatchObject({ destructiveHint: true, idempotentHint: true });
    expect(hints("files_mkdir")).toMatchObject({ destructiveHint: false, idempotentHint: true });
  });

  it("describe every input and output field, nested ones included", () => {
    interface Schema {
      description?: string;
      properties?: Record<string, Schema>;
      items?: Schema;
      anyOf?: Schema[];
    }
    const undescribed = (schema: Schema, at: string): string[] =>
      Object.entries(schema.properties ?? {}).flatMap(([key, p]) => [
        ...(p.description ? [] : [`${at}.${key}`]),
        ...undescribed(p.items ?? p, `${at}.${key}`),
      ]);
    // Output descriptions are documented (docs/tools.md) though tools/list leaves them out.
    for (const t of filesTools) {
      const listing = registry.listing(t.name);
      expect(undescribed(listing?.inputSchema as Schema, `${t.name} input`)).toEqual([]);
      const output = z.toJSONSchema(t.output, { target: "draft-7", io: "output" }) as Schema;
      expect(undescribed(output, `${t.name} output`)).toEqual([]);
    }
  });

  it("refuse a path with '..' before they need Nextcloud at all", async () => {
    // No Nextcloud in this context: reaching it would fail with "not connected" instead.
    const client = await connect(createMcpServer(registry, testContext(["mcp:tools", "mcp:write"])));
    const escape = await client.callTool({ name: "files_read", arguments: { path: "../other/file.md" } });
    expect(escape.isError).toBe(true);
    expect(textOf(escape)).toMatch(/^The path "\.\.\/other\/file\.md" contains "\.\."/);
    const move = await client.callTool({
      name: "files_move",
      arguments: { from: "/a.md", to: "/x/../../b" },
    });
    expect(textOf(move)).toMatch(/^The to "\/x\/\.\.\/\.\.\/b" contains "\.\."/);
    const fine = await client.callTool({ name: "files_read", arguments: { path: "/a.md" } });
    expect(textOf(fine)).toMatch(/not connected to a Nextcloud/);
  });

  it("refuse contradicting or oversized write arguments before any request", async () => {
    const client = await connect(createMcpServer(registry, testContext(["mcp:tools", "mcp:write"])));
    const both = await client.callTool({
      name: "files_write",
      arguments: { path: "/a.md", content: "x", etag: "e1", createOnly: true },
    });
    expect(textOf(both)).toMatch(/either etag .* or createOnly .*, not both/);
    const huge = await client.callTool({
      name: "files_write",
      arguments: { path: "/a.md", content: "x".repeat(2 * 1024 * 1024 + 1) },
    });
    expect(textOf(huge)).toBe(
      "The content is 2097153 bytes; files_write takes at most 2097152 (2 MiB). Nothing was written.",
    );
    const root = await client.callTool({ name: "files_delete", arguments: { path: "/" } });
    expect(textOf(root)).toBe("Your whole Nextcloud root folder cannot be deleted.");
  });
});

describe("resource links in tool results", () => {
  const binary = {
    path: "/Photos/a b.png",
    name: "a b.png",
    size: 1234,
    contentType: "image/png",
    modified: null,
    etag: "e1",
    binary: true,
    content: null,
    uri: "nextcloud://files/Photos/a%20b.png",
  };

  it("files_read adds a resource link for a binary file and says in the text that it is a reference", () => {
    expect(filesRead.content?.(binary)).toEqual([
      {
        type: "resource_link",
        uri: "nextcloud://files/Photos/a%20b.png",
        name: "a b.png",
        mimeType: "image/png",
        size: 1234,
      },
    ]);
    expect(filesRead.text?.(binary)).toBe(
      "/Photos/a b.png is a binary file (image/png, 1.2 KiB); its content is not shown. Reference: nextcloud://files/Photos/a%20b.png",
    );
    expect(filesRead.content?.({ ...binary, binary: false, content: "hi", contentType: null })).toEqual([]);
  });

  it("the server sends a tool's extra content blocks after its text", async () => {
    const linker = defineTool({
      name: "files_linker",
      title: "Links",
      description: "Returns a link.",
      input: z.object({}),
      output: z.object({ uri: z.string() }),
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
      scopes: ["mcp:tools"],
      handler: () => Promise.resolve({ uri: "nextcloud://files/x.bin" }),
      text: (o) => `see ${o.uri}`,
      content: (o) => [{ type: "resource_link", uri: o.uri, name: "x.bin" }],
    });
    const client = await connect(createMcpServer(new ToolRegistry([linker]), testContext()));
    const result = await client.callTool({ name: "files_linker", arguments: {} });
    expect(result.content).toEqual([
      { type: "text", text: "see nextcloud://files/x.bin" },
      { type: "resource_link", uri: "nextcloud://files/x.bin", name: "x.bin" },
    ]);
    expect(result.structuredContent).toEqual({ uri: "nextcloud://files/x.bin" });
  });
});
