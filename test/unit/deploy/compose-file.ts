// Reads compose.yaml the way Docker Compose and kompose do: YAML with anchors and merge keys, then
// `${VAR}`, `${VAR:-default}` and `${VAR:?message}` interpolated from an env file (.env.example).
import { readFileSync } from "node:fs";
import { parse } from "yaml";

/** The parts of a Compose service these tests look at. */
export interface ComposeService {
  image?: string;
  build?: string;
  command?: string[];
  environment?: Record<string, string>;
  configs?: { source: string; target: string; mode?: number }[];
  depends_on?: Record<string, { condition: string }>;
  networks?: Record<string, { aliases?: string[] } | null>;
  ports?: string[];
  healthcheck?: { test?: string[] };
  labels?: Record<string, string>;
  secrets?: string[];
  expose?: string[];
  profiles?: string[];
  deploy?: {
    replicas?: number;
    resources?: { limits?: { memory?: string }; reservations?: { memory?: string } };
  };
}

/** The parts of compose.yaml these tests look at. */
export interface ComposeFile {
  services: Record<string, ComposeService>;
  configs: Record<string, { file: string }>;
  secrets?: Record<string, { file: string }>;
  volumes: Record<string, unknown>;
}

/** The repository root. */
export const root = new URL("../../../", import.meta.url);

/** A file of the repository, as text. */
export function readRepoFile(path: string): string {
  return readFileSync(new URL(path, root), "utf8");
}

/** Parses an env file as Docker Compose does: KEY=value lines, optional double quotes, # comments. */
export function parseEnvFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line.trim());
    if (!m?.[1]) continue;
    env[m[1]] = (m[2] ?? "").replace(/^"(.*)"$/, "$1");
  }
  return env;
}

/** The variables compose.yaml requires (`${VAR:?…}`): Compose refuses to start without them. */
export function requiredVariables(composeText: string): string[] {
  return [...new Set([...composeText.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*):?\?/g)].map((m) => m[1] ?? ""))];
}

/**
 * Interpolates one value as the Compose Specification defines it.
 * @throws Error for a required variable that is unset or empty.
 */
export function interpolate(value: string, env: Record<string, string>): string {
  return value.replace(
    /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?])([^}]*))?\}/g,
    (
      all,
      name: string | undefined,
      colon: string | undefined,
      op: string | undefined,
      arg: string | undefined,
    ) => {
      if (all === "$$" || name === undefined) return "$";
      const v = env[name];
      const unset = v === undefined || (colon === ":" && v === "");
      if (op === "-") return unset ? (arg ?? "") : v;
      if (op === "?" && unset) throw new Error(`required variable ${name} is not set: ${arg ?? ""}`);
      return v ?? "";
    },
  );
}

function resolveAll(node: unknown, env: Record<string, string>): unknown {
  if (typeof node === "string") return interpolate(node, env);
  if (Array.isArray(node)) return node.map((n) => resolveAll(n, env));
  if (node !== null && typeof node === "object") {
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, resolveAll(v, env)]));
  }
  return node;
}

/** A compose file (default compose.yaml) with the variables of `env` filled in. */
export function loadCompose(env: Record<string, string>, file = "compose.yaml"): ComposeFile {
  const raw: unknown = parse(readRepoFile(file), { merge: true });
  return resolveAll(raw, env) as ComposeFile;
}

/** A service of compose.yaml; fails the test when it is missing. */
export function service(compose: ComposeFile, name: string): ComposeService {
  const s = compose.services[name];
  if (!s) throw new Error(`compose.yaml has no service ${name}`);
  return s;
}
