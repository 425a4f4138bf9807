// The stand-in's Radicale processes leave nothing behind on a shared machine: stop() ends them and
// removes their storage, and they end by themselves when the process that started them dies.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { waitFor } from "../../harness/wait.ts";
import { startRadicale } from "../../standin/radicale.ts";

/** Whether something answers HTTP on the port. */
async function answers(port: number): Promise<boolean> {
  try {
    await fetch(`http://127.0.0.1:${String(port)}/`, { signal: AbortSignal.timeout(5_000) });
    return true;
  } catch {
    return false;
  }
}

describe("Radicale of the stand-in", () => {
  it("listens on loopback only until stop(), which also removes its storage", async () => {
    const radicale = await startRadicale();
    expect(await answers(radicale.port)).toBe(true);
    const res = await fetch(`http://127.0.0.1:${String(radicale.port)}/someone/`, {
      method: "PROPFIND",
      headers: { Depth: "0", "X-Remote-User": "someone" },
    });
    expect(res.status).toBe(207);
    expect(existsSync(radicale.storage)).toBe(true);
    await radicale.stop();
    expect(await answers(radicale.port)).toBe(false);
    expect(existsSync(radicale.storage)).toBe(false);
  });

  it("ends when the process that started it is killed", async () => {
    const script = `
      import { startRadicale } from ${JSON.stringify(new URL("../../standin/radicale.ts", import.meta.url).pathname)};
      const r = await startRadicale();
      process.stdout.write(JSON.stringify({ port: r.port, storage: r.storage }) + "\\n");
      setInterval(() => {}, 1000);
    `;
    const child = spawn(process.execPath, ["--input-type=module", "-e", script], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
    const { port, storage } = await waitFor("the child to print Radicale's port", () =>
      out.endsWith("\n") ? (JSON.parse(out) as { port: number; storage: string }) : undefined,
    );
    expect(await answers(port)).toBe(true);
    child.kill("SIGKILL");
    await waitFor("Radicale to end after its parent died", async () =>
      (await answers(port)) ? undefined : true,
    );
    await waitFor("its storage to be removed", () => (existsSync(storage) ? undefined : true));
  });
});
