// Generated reference docs must match the code they are generated from.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { generatedDocs } from "../../scripts/docs.ts";

describe("generated docs", () => {
  it("are up to date (run `npm run docs:gen` after changing the config schema or the tools)", async () => {
    for (const doc of await generatedDocs()) {
      const onDisk = readFileSync(new URL(`../../${doc.path}`, import.meta.url), "utf8");
      expect(onDisk, doc.path).toBe(doc.content);
    }
  });
});
