// The image is built where a Docker engine runs, not here: these tests check what the build relies on
// (the build context, the layout dist/ expects, runtime dependencies only) from the files themselves.
import { readdirSync, readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { describe, expect, it } from "vitest";
import { readRepoFile, root } from "./compose-file.ts";

const dockerfile = readRepoFile("Dockerfile");
const instructions = dockerfile
  .replace(/\\\n\s*/g, " ")
  .split("\n")
  .map((l) => l.trim())
  .filter((l) => l !== "" && !l.startsWith("#"));
const runtimeStage = instructions.slice(instructions.findLastIndex((l) => l.startsWith("FROM ")));
const allowed = readRepoFile(".dockerignore")
  .split("\n")
  .filter((l) => l.startsWith("!"))
  .map((l) => l.slice(1).replace(/\/$/, ""));

describe("Dockerfile", () => {
  it("copies from the build context only what .dockerignore lets in", () => {
    const sources = instructions
      .filter((l) => l.startsWith("COPY ") && !l.includes("--from="))
      .flatMap((l) => l.split(/\s+/).slice(1, -1));
    expect(sources.length).toBeGreaterThan(0);
    for (const source of sources) expect(allowed, source).toContain(source);
  });

  it("bundles with rolldown.config.ts, and puts package.json and sql/ where dist/ looks for them", () => {
    // src/package-root.ts looks for package.json beside sql/ in the directories above the module.
    expect(readRepoFile("src/version.ts")).toContain('new URL("package.json", PACKAGE_ROOT)');
    expect(readRepoFile("src/store/migrate.ts")).toContain('new URL("sql/", PACKAGE_ROOT)');
    expect(instructions).toContain("RUN node_modules/.bin/rolldown -c rolldown.config.ts");
    const { scripts } = JSON.parse(readRepoFile("package.json")) as { scripts: Record<string, string> };
    expect(scripts.build).toBe("rolldown -c rolldown.config.ts");
    expect(runtimeStage).toContain("WORKDIR /app");
    expect(runtimeStage).toContain("COPY --from=build /app/dist ./dist");
    expect(runtimeStage).toContain("COPY package.json ./");
    expect(runtimeStage).toContain("COPY sql ./sql");
    expect(runtimeStage).toContain('ENTRYPOINT ["node", "dist/main.js"]');
  });

  it("installs runtime dependencies only, and runs as the unprivileged node user with a /healthz check", () => {
    expect(instructions).toContain("COPY --from=deps /app/node_modules ./node_modules");
    expect(dockerfile).toMatch(/npm ci --omit=dev --omit=optional/);
    expect(runtimeStage).toContain("USER node");
    expect(runtimeStage.find((l) => l.startsWith("HEALTHCHECK"))).toContain("/healthz");
    expect(runtimeStage.find((l) => l.startsWith("ENV"))).toContain("HOST=0.0.0.0");
  });
});

describe("src/ imports only runtime dependencies (the image has no devDependencies)", () => {
  const pkg = JSON.parse(readRepoFile("package.json")) as { dependencies: Record<string, string> };
  const builtins = new Set(builtinModules);

  function sourceFiles(dir: URL): URL[] {
    return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory()
        ? sourceFiles(new URL(`${e.name}/`, dir))
        : e.name.endsWith(".ts")
          ? [new URL(e.name, dir)]
          : [],
    );
  }

  /** Package names a module loads at run time (type-only imports are erased by the compiler). */
  function runtimeImports(text: string): string[] {
    const specifiers = [
      // The clause before `from` holds names, braces, commas and `*` only: no quotes, `=` or calls.
      ...text.matchAll(/^\s*(?:import|export)\s+(?!type\s)(?:[^;"'()=]*?\sfrom\s+)?"([^"]+)"/gm),
      ...text.matchAll(/\bimport\(\s*"([^"]+)"\s*\)/g),
    ].map((m) => m[1] ?? "");
    return specifiers
      .filter((s) => !s.startsWith(".") && !s.startsWith("node:") && !builtins.has(s))
      .map((s) => (s.startsWith("@") ? s.split("/").slice(0, 2).join("/") : (s.split("/")[0] ?? s)));
  }

  it("finds imports the way the check needs to", () => {
    expect(runtimeImports('import { z } from "zod";\nimport type { X } from "vitest";\n')).toEqual(["zod"]);
    expect(runtimeImports('const m = await import("@scope/pkg/sub");')).toEqual(["@scope/pkg"]);
    expect(runtimeImports('export const t = f({ d: "derived from " + "x" });')).toEqual([]);
    expect(runtimeImports('export { a } from "kysely";\nimport "side-effect";')).toEqual([
      "kysely",
      "side-effect",
    ]);
  });

  it("has every package it imports in dependencies", () => {
    const files = sourceFiles(new URL("src/", root));
    expect(files.length).toBeGreaterThan(10);
    for (const file of files) {
      for (const name of runtimeImports(readFileSync(file, "utf8"))) {
        expect(
          Object.keys(pkg.dependencies),
          `${file.pathname.slice(root.pathname.length)} imports ${name}`,
        ).toContain(name);
      }
    }
  });
});
