// Shared by the stand-in and Nextcloud-client integration tests: real Keycloak tokens (browser sign-in
// as an MCP client, then RFC 8693 exchange by the gateway client) and the OpenAPI contract validator.
import { readFileSync } from "node:fs";
import { Ajv2020 } from "ajv/dist/2020.js";
import * as oidc from "openid-client";
import type { Browser } from "playwright-core";
import { clientConfig, gatewayClient, signIn } from "../support/oauth.ts";

/** The tokens of one signed-in user. */
export interface UserTokens {
  /** The MCP token (aud mcp-gateway): Nextcloud must refuse it. */
  mcp: string;
  /** The exchanged token (aud nextcloud). */
  nextcloud: string;
}

/** Signs a user in through Keycloak's login page and exchanges the MCP token for a Nextcloud one. */
export async function nextcloudTokens(
  browser: Browser,
  user: { username: string; password: string },
): Promise<UserTokens> {
  const mcp = await signIn(browser, {
    config: await clientConfig("mcp-client"),
    redirectUri: "http://127.0.0.1:49331/callback",
    scope: "openid mcp:tools",
    user,
  });
  const exchanged = await oidc.genericGrantRequest(
    await gatewayClient(),
    "urn:ietf:params:oauth:grant-type:token-exchange",
    {
      subject_token: mcp.access_token,
      subject_token_type: "urn:ietf:params:oauth:token-type:access_token",
      audience: "nextcloud",
      scope: "nextcloud-audience",
    },
  );
  return { mcp: mcp.access_token, nextcloud: exchanged.access_token };
}

const SPECS = ["core", "provisioning_api", "notes", "tables", "files_sharing"] as const;

/** A contract check: the schema's complaints about `body` (empty when it conforms). */
export type ResponseCheck = (
  spec: (typeof SPECS)[number],
  path: string,
  method: string,
  status: number,
  body: unknown,
) => string[];

/** Validates `body` against a named schema of a spec's `components/schemas`. */
export type ComponentCheck = (spec: (typeof SPECS)[number], name: string, body: unknown) => string[];

/**
 * Validates bodies against the response schemas of the Nextcloud OpenAPI specs in test/fixtures
 * (`validate`), and against their named component schemas (`component`, e.g. notes' Capabilities,
 * which core's capabilities response only lists in an anyOf and so never really checks).
 */
export function contractValidators(): { validate: ResponseCheck; component: ComponentCheck } {
  // The specs are OpenAPI 3.1 (JSON Schema 2020-12) with OpenAPI-only keywords around the schemas.
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  for (const f of ["int64", "float", "double", "int32"]) ajv.addFormat(f, true);
  for (const name of SPECS) {
    const url = new URL(`../../fixtures/nextcloud-openapi/${name}.openapi.json`, import.meta.url);
    const spec = withoutUntypedNullable(JSON.parse(readFileSync(url, "utf8"))) as Record<string, unknown>;
    ajv.addSchema({ ...spec, $id: `https://nextcloud.invalid/${name}` });
  }
  const escape = (s: string) => s.replaceAll("~", "~0").replaceAll("/", "~1");
  const check = (ref: string, body: unknown) => {
    const validate = ajv.compile({ $ref: ref });
    return validate(body) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ""}`);
  };
  return {
    validate: (spec, path, method, status, body) =>
      check(
        `https://nextcloud.invalid/${spec}#/paths/${escape(path)}/${method}/responses/${String(status)}/content/${escape("application/json")}/schema`,
        body,
      ),
    component: (spec, name, body) =>
      check(`https://nextcloud.invalid/${spec}#/components/schemas/${escape(name)}`, body),
  };
}

/** Validates bodies against the response schemas of the Nextcloud OpenAPI specs in test/fixtures. */
export function contractValidator(): ResponseCheck {
  return contractValidators().validate;
}

/**
 * The spec with `nullable` removed where a schema has no `type` (files_sharing's Share.parent is
 * `{"nullable": true}`, i.e. anything), which ajv refuses to compile.
 */
function withoutUntypedNullable(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withoutUntypedNullable);
  if (typeof node !== "object" || node === null) return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === "nullable" && !("type" in node)) continue;
    out[k] = withoutUntypedNullable(v);
  }
  return out;
}
