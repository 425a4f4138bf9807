// Documents in the content index, end to end: alice's PDF, Word, spreadsheet and OpenDocument files
// on the stand-in's WebDAV, one indexing pass with her real exchanged token into the gateway's
// PostgreSQL, then the `search` tool with her real MCP token. What she notices: a word inside a PDF
// or a .docx finds the file; a corrupt PDF, an encrypted document and a zip bomb do not stop the pass
// and are still found by their names; a misspelt name finds the file.
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { crawlFiles, type CrawlCounts } from "../../../src/apps/search/crawl.ts";
import { createNextcloudClient } from "../../../src/nextcloud/index.ts";
import { upsertUser } from "../../../src/store/index.ts";
import { docx, encryptedOffice, odf, pdf, xlsx, zipBomb } from "../../fixtures/documents.ts";
import { launchBrowser } from "../../harness/browser.ts";
import { nextcloudTokens } from "../standin/support.ts";
import { claims, DEMO_USERS } from "../support/oauth.ts";
import { markIndexReady, searchTool, startSearchScene, type SearchScene } from "./support.ts";

interface Found {
  source: string;
  hits: { provider: string; title: string; id: string | number; snippet: string | null }[];
}

const { issuer } = inject("keycloak");
const MAX_FILE_BYTES = 64 * 1024;
let scene: SearchScene;
let mcpToken: string;
let counts: CrawlCounts;

async function search(query: string): Promise<Found> {
  const { o: found } = await searchTool<Found>(scene.gw.gateway.url, mcpToken, { query });
  expect(found.source).toBe("index");
  return found;
}

const titles = async (query: string) => (await search(query)).hits.map((h) => h.title);

beforeAll(async () => {
  scene = await startSearchScene();
  const { nc, store, index } = scene;
  const browser: Browser = await launchBrowser();
  let nextcloudToken: string;
  try {
    const tokens = await nextcloudTokens(browser, DEMO_USERS.alice);
    mcpToken = tokens.mcp;
    nextcloudToken = tokens.nextcloud;
  } finally {
    await browser.close();
  }
  const uid = claims(nextcloudToken).sub ?? "";
  const bomb = zipBomb(8 * 1024 * 1024);
  // The bomb fits the byte bound: only the inflate bound (32× the byte bound) stops it.
  expect(bomb.length).toBeLessThan(MAX_FILE_BYTES);
  await nc.seed(uid, {
    "Minutes/board.pdf": pdf(["Minutes of the board", "The board chose the capybara for the logo."]),
    "Letters/offer.docx": docx(["Dear Sam,", "we offer the wombat team a new office."]),
    "Budget/plan.xlsx": xlsx(["Travel to the narwhal conference"]),
    "Budget/notes.odt": odf("application/vnd.oasis.opendocument.text", ["The axolotl tank needs a filter."]),
    "Reports/Quarterly report.md": "Revenue grew in the third quarter.",
    "Broken/corrupt.pdf": new TextEncoder().encode("%PDF-1.7\nthis is not a PDF at all"),
    "Broken/bomb.docx": bomb,
    "Broken/locked.xlsx": encryptedOffice(),
  });
  // One pass, as the search-index job makes it, into the gateway's database.
  const userId = (await upsertUser(store.db, { issuer, subject: claims(mcpToken).sub ?? "" })).id;
  const files = createNextcloudClient({
    baseUrl: nc.url,
    token: () => nextcloudToken,
    timeoutMs: 10_000,
  }).files;
  counts = await crawlFiles(files, index.sinkFor(userId), {
    notesFolder: "/Notes",
    maxFileBytes: MAX_FILE_BYTES,
  });
  await markIndexReady(store, index, userId);
}, 300_000);

afterAll(async () => {
  await scene.stop();
});

describe("documents in the content index", () => {
  it("finds a PDF and a .docx by a word in their body, with the word marked", async () => {
    const pdfHits = (await search("capybara")).hits;
    expect(pdfHits).toEqual([
      expect.objectContaining({
        provider: "files",
        title: "board.pdf",
        id: "/Minutes/board.pdf",
        snippet: expect.stringContaining("«capybara»") as unknown,
      }),
    ]);
    expect(await titles("wombat")).toEqual(["offer.docx"]);
    expect(await titles("narwhal")).toEqual(["plan.xlsx"]);
    expect(await titles("axolotl")).toEqual(["notes.odt"]);
  });

  it("completes the pass over a corrupt PDF, a zip bomb and an encrypted file, counting each, and finds them by name", async () => {
    expect(counts).toMatchObject({ indexed: 8, extractErrors: 3 });
    expect(await titles("corrupt")).toEqual(["corrupt.pdf"]);
    expect(await titles("bomb")).toEqual(["bomb.docx"]);
    expect(await titles("locked")).toEqual(["locked.xlsx"]);
    // Nothing of the bomb's inflated body was kept.
    expect((await search("bomb")).hits[0]?.snippet ?? "").not.toContain("bomb bomb");
  });

  it("finds a file by a misspelt name", async () => {
    expect(await titles("quartrly")).toEqual(["Quarterly report.md"]);
    expect(await titles("Quarterly")).toEqual(["Quarterly report.md"]);
  });
});
