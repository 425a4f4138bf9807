import { existsSync } from "node:fs";

/**
 * The package's root directory (holding package.json and sql/), found upward from this module: it
 * sits one level below it in src/ and in the bundled dist/, and files that read beside the package
 * (the version, the migrations) must not depend on that depth.
 */
export const PACKAGE_ROOT: URL = (() => {
  let dir = new URL("./", import.meta.url);
  for (let depth = 0; depth < 4; depth++) {
    if (existsSync(new URL("package.json", dir)) && existsSync(new URL("sql/", dir))) return dir;
    dir = new URL("../", dir);
  }
  throw new Error(`the package root (package.json beside sql/) is not above ${import.meta.url}`);
})();
