import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { waitFor } from "./wait.ts";

/**
 * A stand-in for the desktop's web browser, for MCP clients that open the sign-in page themselves
 * (through the `open` package, xdg-open, or `$BROWSER`). `env` makes the client "open" URLs by
 * appending them to a file; the test takes each URL from there to headless Chromium. Nothing
 * else on the machine is started.
 */
export interface BrowserHandoff {
  /** Environment for the client process: BROWSER set, no desktop session to prefer over it. */
  env: Record<string, string>;
  /** Every URL the client has opened so far. */
  opened(): string[];
  /** Waits for the client to open its `n`-th URL (1-based) and returns it. */
  nextUrl(n: number, timeoutMs?: number): Promise<string>;
}

export function createBrowserHandoff(dir: string): BrowserHandoff {
  const log = join(dir, "opened-urls.txt");
  const script = join(dir, "browser.sh");
  // xdg-open hands the URL as the only argument; exit 0 tells it (and `open`) the browser ran.
  writeFileSync(script, `#!/bin/sh\nprintf '%s\\n' "$1" >> '${log}'\n`);
  chmodSync(script, 0o755);
  const opened = () =>
    existsSync(log)
      ? readFileSync(log, "utf8")
          .split("\n")
          .filter((l) => l !== "")
      : [];
  return {
    env: {
      BROWSER: script,
      // Without a display xdg-open takes its generic path, which is $BROWSER.
      DISPLAY: "",
      WAYLAND_DISPLAY: "",
      XDG_CURRENT_DESKTOP: "",
      DESKTOP_SESSION: "",
    },
    opened,
    nextUrl: (n, timeoutMs = 60_000) =>
      waitFor(`the client to open URL #${String(n)} in the browser`, () => opened()[n - 1], { timeoutMs }),
  };
}
