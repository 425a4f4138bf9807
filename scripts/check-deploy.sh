#!/usr/bin/env bash
# Static checks of the deployment files (compose.yaml, Dockerfile, deploy/, the Kubernetes conversion),
# runnable without a Docker engine and without a cluster:
#
#   1. shell syntax of deploy/*.sh; the Nextcloud hook is executable (the image skips it otherwise)
#   2. compose.yaml, compose.gateway.yaml and compose.postgres.yaml against the Compose Specification JSON schema (the copy shipped by the npm
#      package dclint), then dclint's rules that are not about style
#   3. the unit tests of the deployment files (test/unit/deploy: the realm file compose mounts is
#      keycloak/realm-export.json, the gateway gets every required variable, Dockerfile vs .dockerignore)
#   4. `kompose convert` of the three documented variants (compose.gateway.yaml with and without
#      compose.postgres.yaml, and the bundled compose.yaml), every manifest (and the PodDisruptionBudget
#      of deploy/kubernetes/) validated by kubeconform -strict against JSON schemas generated from the
#      Kubernetes OpenAPI document, and the objects each conversion must produce
#   5. `docker build` of the image, or "skipped: no Docker engine" when none answers
#
# Tools are pinned and kept outside the repository, in $NCMCP_CACHE_DIR/deploy-check (default
# ~/.cache/nextcloud-mcp-gateway/deploy-check); a second run reuses them. Everything comes from the
# package registries: kompose and kubeconform are built from the Go module proxy, the Kubernetes
# OpenAPI document is api/openapi-spec/swagger.json of the Go module k8s.io/kubernetes, dclint (with
# ajv and yaml) comes from npm. Nothing is fetched from GitHub: kubeconform's default schema location
# is not used. Needs Go 1.24+ and Node; under CI=true a missing tool fails instead of skipping.
set -euo pipefail
cd "$(dirname "$0")/.."

KOMPOSE_VERSION=v1.38.0
KUBECONFORM_VERSION=v0.8.0
KUBERNETES_VERSION=1.35.4
DCLINT_VERSION=3.1.0

started=$(date +%s)
step() { printf '\n== check-deploy: %s (%ss)\n' "$*" "$(($(date +%s) - started))"; }
say() { printf 'check-deploy: %s\n' "$*"; }
fail() {
  printf 'check-deploy: FAIL: %s\n' "$*" >&2
  exit 1
}
skip_or_fail() {
  if [ "${CI:-}" = "true" ]; then fail "$*"; fi
  say "skipped: $*"
}

# Node 24 from node_modules when `npm ci` ran; the inline scripts below also run on Node 20.
export PATH="$PWD/node_modules/.bin:$PATH"
command -v node >/dev/null || fail "node not found"
if [ -x /usr/local/go/bin/go ]; then export PATH="$PATH:/usr/local/go/bin"; fi

cache="${NCMCP_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/nextcloud-mcp-gateway}/deploy-check"
bin="$cache/bin"
mkdir -p "$bin"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The variables of an env file (default .env.example), exported as Docker Compose would read them (KEY=value, optional
# double quotes, comments skipped), without running the file as shell code.
load_env_example() {
  local key value
  while IFS= read -r line || [ -n "$line" ]; do
    case "$line" in '' | '#'*) continue ;; esac
    key=${line%%=*}
    value=${line#*=}
    value=${value#\"}
    value=${value%\"}
    export "$key=$value"
  done <"${1:-.env.example}"
}

# ---------------------------------------------------------------------------------------------------
step "1/5 deploy scripts: shell syntax, executable hook"
for f in deploy/postgres/init-databases.sh deploy/generate-env.sh deploy/generate-secrets.sh; do
  bash -n "$f" || fail "$f: shell syntax"
done
sh -n deploy/nextcloud/configure-oidc.sh || fail "deploy/nextcloud/configure-oidc.sh: shell syntax (it runs under /bin/sh)"
say "shell syntax ok: deploy/postgres/init-databases.sh deploy/generate-env.sh deploy/generate-secrets.sh deploy/nextcloud/configure-oidc.sh"
[ -x deploy/nextcloud/configure-oidc.sh ] ||
  fail "deploy/nextcloud/configure-oidc.sh is not executable; the nextcloud image skips hooks without the flag (chmod +x)"
mode=$(git ls-files -s deploy/nextcloud/configure-oidc.sh 2>/dev/null | cut -d' ' -f1)
if [ -n "$mode" ] && [ "$mode" != 100755 ]; then
  fail "git records deploy/nextcloud/configure-oidc.sh as $mode; commit it executable (git update-index --chmod=+x)"
fi
say "the Nextcloud hook is executable"
if command -v shellcheck >/dev/null; then
  shellcheck deploy/*.sh deploy/*/*.sh scripts/check-deploy.sh || fail "shellcheck found problems"
  say "shellcheck: no findings"
fi

# ---------------------------------------------------------------------------------------------------
step "2/5 compose files: Compose Specification schema (dclint $DCLINT_VERSION) and lint rules"
npm_dir="$cache/npm-dclint-$DCLINT_VERSION"
if [ ! -f "$npm_dir/node_modules/dclint/schemas/compose.schema.json" ]; then
  say "installing dclint@$DCLINT_VERSION into $npm_dir"
  npm install --prefix "$npm_dir" --no-audit --no-fund --no-save --loglevel=error "dclint@$DCLINT_VERSION" >/dev/null
fi
compose_files=(compose.yaml compose.gateway.yaml compose.postgres.yaml)
for compose_file in "${compose_files[@]}"; do
node --input-type=module - "$npm_dir" "$compose_file" <<'EOF'
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
const [dir, file] = process.argv.slice(2);
const require = createRequire(`${dir}/node_modules/`);
const YAML = require("yaml");
const { Ajv } = require("ajv");
const schema = JSON.parse(readFileSync(`${dir}/node_modules/dclint/schemas/compose.schema.json`, "utf8"));
// The schema names draft-07 by an https URL that ajv does not know; ajv's default draft is draft-07.
delete schema.$schema;
const doc = YAML.parse(readFileSync(file, "utf8"), { merge: true });
const ajv = new Ajv({ allErrors: true, strict: false, allowUnionTypes: true, logger: false });
const validate = ajv.compile(schema);
if (!validate(doc)) {
  for (const e of validate.errors) console.error(`  ${e.instancePath || "/"}: ${e.message} ${JSON.stringify(e.params)}`);
  console.error(`check-deploy: FAIL: ${file} does not follow the Compose Specification (${schema.title})`);
  process.exit(1);
}
console.log(`check-deploy: ${file} follows the Compose Specification schema (${Object.keys(doc.services).length} services)`);
EOF
done
# Style rules (key order, quoting, sorting) are left out. no-build-and-image: the gateway is built from
# this repository and tagged GATEWAY_IMAGE on purpose.
disabled=(service-keys-order services-alphabetical-order top-level-properties-order
  service-dependencies-alphabetical-order service-ports-alphabetical-order require-quotes-in-ports
  no-build-and-image)
for compose_file in "${compose_files[@]}"; do
  node "$npm_dir/node_modules/dclint/bin/dclint.cjs" "$compose_file" --color=false --max-warnings=0 \
    "${disabled[@]/#/--disable-rule=}" || fail "dclint found problems in $compose_file"
done
say "dclint: no findings (style rules off)"

# ---------------------------------------------------------------------------------------------------
step "3/5 unit tests of the deployment files (test/unit/deploy)"
if [ -x node_modules/.bin/vitest ]; then
  vitest run --project unit test/unit/deploy || fail "the unit tests of the deployment files failed"
else
  skip_or_fail "node_modules is missing (run npm ci); the unit tests of the deployment files did not run"
fi

# ---------------------------------------------------------------------------------------------------
step "4/5 Kubernetes: kompose $KOMPOSE_VERSION, kubeconform $KUBECONFORM_VERSION, schemas of Kubernetes $KUBERNETES_VERSION"
if ! command -v go >/dev/null; then
  skip_or_fail "no Go toolchain (kompose and kubeconform are built from the Go module proxy)"
else
  export GOFLAGS="-mod=mod -buildvcs=false"
  kompose="$bin/kompose-$KOMPOSE_VERSION"
  kubeconform="$bin/kubeconform-$KUBECONFORM_VERSION"
  pids=()
  if [ ! -x "$kompose" ]; then
    # Not `go install kompose@version`: kompose's go.mod has a replace directive, which go install
    # refuses, so the module is downloaded and built in place.
    say "building kompose $KOMPOSE_VERSION (about 2 minutes the first time)"
    (
      dir=$(go mod download -json "github.com/kubernetes/kompose@$KOMPOSE_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
      [ -n "$dir" ] || exit 1
      cd "$dir" && go build -o "$kompose.tmp" . && mv "$kompose.tmp" "$kompose"
    ) >"$tmp/kompose-build.log" 2>&1 &
    pids+=("$!:kompose")
  fi
  if [ ! -x "$kubeconform" ]; then
    say "building kubeconform $KUBECONFORM_VERSION"
    (
      GOBIN="$tmp/gobin" go install "github.com/yannh/kubeconform/cmd/kubeconform@$KUBECONFORM_VERSION" &&
        mv "$tmp/gobin/kubeconform" "$kubeconform"
    ) >"$tmp/kubeconform-build.log" 2>&1 &
    pids+=("$!:kubeconform")
  fi
  for entry in "${pids[@]}"; do
    if ! wait "${entry%%:*}"; then
      cat "$tmp/${entry#*:}-build.log" >&2
      fail "could not build ${entry#*:}"
    fi
  done
  say "tools: $kompose, $kubeconform"

  schemas="$cache/kubernetes-json-schema/v$KUBERNETES_VERSION"
  if [ ! -f "$schemas/.complete" ]; then
    say "generating JSON schemas from k8s.io/kubernetes@v$KUBERNETES_VERSION api/openapi-spec/swagger.json"
    module=$(go mod download -json "k8s.io/kubernetes@v$KUBERNETES_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
    [ -f "$module/api/openapi-spec/swagger.json" ] || fail "no api/openapi-spec/swagger.json in k8s.io/kubernetes@v$KUBERNETES_VERSION"
    rm -rf "$schemas" && mkdir -p "$schemas"
    # One standalone, strict schema per kind, named as kubeconform looks schemas up
    # ({{ .ResourceKind }}{{ .KindSuffix }}.json, e.g. deployment-apps-v1.json). Strict: an object with
    # declared properties accepts no others (a typo in a field name fails). As in the published
    # kubernetes-json-schema sets, fields may be null, IntOrString takes a string or an integer and a
    # Quantity a string or a number.
    node --input-type=module - "$module/api/openapi-spec/swagger.json" "$schemas" <<'EOF'
import { readFileSync, writeFileSync } from "node:fs";
const [swaggerPath, outDir] = process.argv.slice(2);
const defs = JSON.parse(readFileSync(swaggerPath, "utf8")).definitions;
const PREFIX = "#/definitions/";
const special = {
  "io.k8s.apimachinery.pkg.util.intstr.IntOrString": { oneOf: [{ type: "string" }, { type: "integer" }] },
  "io.k8s.apimachinery.pkg.api.resource.Quantity": { oneOf: [{ type: "string" }, { type: "number" }] },
};
function convert(node, refs) {
  if (Array.isArray(node)) return node.map((n) => convert(n, refs));
  if (node === null || typeof node !== "object") return node;
  const out = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === "description" || k.startsWith("x-kubernetes-")) continue;
    if (k === "$ref") refs.add(v.slice(PREFIX.length));
    out[k] = k === "properties"
      ? Object.fromEntries(Object.entries(v).map(([p, s]) => [p, convert(s, refs)]))
      : convert(v, refs);
  }
  if (out.format === "int-or-string") return { oneOf: [{ type: "string" }, { type: "integer" }, { type: "null" }] };
  if (typeof out.type === "string") out.type = [out.type, "null"];
  if (out.properties && out.additionalProperties === undefined) out.additionalProperties = false;
  return out;
}
const converted = new Map();
function definition(name) {
  if (!converted.has(name)) {
    const refs = new Set();
    converted.set(name, { refs, schema: special[name] ?? convert(defs[name], refs) });
  }
  return converted.get(name);
}
let count = 0;
for (const [name, def] of Object.entries(defs)) {
  for (const gvk of def["x-kubernetes-group-version-kind"] ?? []) {
    const apiVersion = gvk.group ? `${gvk.group}/${gvk.version}` : gvk.version;
    const suffix = gvk.group ? `-${gvk.group.split(".")[0]}-${gvk.version}` : `-${gvk.version}`;
    const root = structuredClone(definition(name).schema);
    const needed = new Set();
    const queue = [...definition(name).refs];
    while (queue.length > 0) {
      const ref = queue.pop();
      if (needed.has(ref)) continue;
      needed.add(ref);
      queue.push(...definition(ref).refs);
    }
    root.type = "object";
    root.properties.apiVersion = { type: "string", enum: [apiVersion] };
    root.properties.kind = { type: "string", enum: [gvk.kind] };
    root.required = [...new Set([...(root.required ?? []), "apiVersion", "kind"])];
    root.definitions = Object.fromEntries([...needed].sort().map((r) => [r, definition(r).schema]));
    writeFileSync(`${outDir}/${gvk.kind.toLowerCase()}${suffix}.json`, JSON.stringify(root));
    count++;
  }
}
writeFileSync(`${outDir}/.complete`, `${count}\n`);
console.log(`check-deploy: ${count} schemas written to ${outDir}`);
EOF
  fi

  # Three conversions, as docs/kubernetes.md gives them: (a) the gateway and its own PostgreSQL and
  # (b) the gateway alone, from compose.gateway.yaml with deploy/gateway.env.example and placeholder
  # secret files; (c) the bundled trial stack, compose.yaml with .env.example.
  mkdir -p "$tmp/secrets" "$tmp/k8s-a" "$tmp/k8s-b" "$tmp/k8s-c"
  for f in oidc-client-secret database-url sealing-keys postgres-password; do
    printf 'placeholder-%s' "$f" >"$tmp/secrets/$f"
  done
  convert() {
    local name=$1 env=$2 out=$3
    shift 3
    say "kompose convert ($name): $*"
    (load_env_example "$env" && export GATEWAY_SECRETS_DIR="$tmp/secrets" &&
      "$kompose" convert "$@" --out "$out/") >"$tmp/kompose-$name.log" 2>&1 ||
      {
        cat "$tmp/kompose-$name.log" >&2
        fail "kompose convert ($name) failed"
      }
    grep -i 'warn' "$tmp/kompose-$name.log" | sed 's/^/  kompose: /' || true
    say "$name: $(find "$out" -name '*.yaml' | wc -l | tr -d ' ') manifests"
  }
  convert gateway+postgres deploy/gateway.env.example "$tmp/k8s-a" \
    --secrets-as-files --file compose.gateway.yaml --file compose.postgres.yaml
  convert gateway deploy/gateway.env.example "$tmp/k8s-b" --secrets-as-files --file compose.gateway.yaml
  convert bundled .env.example "$tmp/k8s-c" --file compose.yaml
  # kompose cannot write a PodDisruptionBudget: the one in deploy/kubernetes/ goes with (a) and (b).
  cp deploy/kubernetes/gateway-pdb.yaml "$tmp/k8s-a/"
  cp deploy/kubernetes/gateway-pdb.yaml "$tmp/k8s-b/"

  for out in "$tmp/k8s-a" "$tmp/k8s-b" "$tmp/k8s-c"; do
    "$kubeconform" -strict -summary -output text -kubernetes-version "$KUBERNETES_VERSION" \
      -schema-location "$schemas/{{ .ResourceKind }}{{ .KindSuffix }}.json" "$out"/*.yaml ||
      fail "kubeconform found manifests in $out that do not match the Kubernetes $KUBERNETES_VERSION schemas"
  done

  # What each conversion must produce, and what the deployment relies on in it.
  node --input-type=module - "$npm_dir" "$tmp" <<'EOF'
import { createRequire } from "node:module";
import { readdirSync, readFileSync } from "node:fs";
const [dir, tmp] = process.argv.slice(2);
const YAML = createRequire(`${dir}/node_modules/`)("yaml");
const load = (out) =>
  readdirSync(out).flatMap((f) => YAML.parseAllDocuments(readFileSync(`${out}/${f}`, "utf8")).map((d) => d.toJS()));
const problems = [];
const bytes = (q) => {
  const m = /^(\d+)(Mi|Gi|M|G)?$/.exec(String(q));
  if (!m) return NaN;
  const unit = { Mi: 2 ** 20, Gi: 2 ** 30, M: 1e6, G: 1e9 }[m[2]] ?? 1;
  return Number(m[1]) * unit;
};
const SECRET_VARIABLES = ["OIDC_CLIENT_SECRET", "DATABASE_URL", "SEALING_KEYS", "METRICS_TOKEN", "POSTGRES_PASSWORD"];
function check(label, out, expected, { secrets, replicas }) {
  const objects = load(out);
  const find = (kind, name) => objects.find((o) => o?.kind === kind && o.metadata?.name === name);
  const expect = (ok, what) => {
    if (!ok) problems.push(`${label}: ${what}`);
  };
  const names = objects.map((o) => `${o.kind} ${o.metadata.name}`).sort();
  expect(
    JSON.stringify(names) === JSON.stringify([...expected].sort()),
    `objects ${JSON.stringify(names)}, expected ${JSON.stringify([...expected].sort())}`,
  );
  const pod = find("Deployment", "gateway")?.spec.template.spec;
  const gateway = pod?.containers[0];
  expect(gateway?.readinessProbe?.httpGet?.path === "/readyz", "the gateway's readiness probe is not GET /readyz");
  expect(gateway?.livenessProbe?.httpGet?.path === "/healthz", "the gateway's liveness probe is not GET /healthz");
  // ADR 0014: the gateway migrates at start, under the advisory lock; no separate migrate pod.
  expect(JSON.stringify(gateway?.args) === '["serve"]', `the gateway runs ${JSON.stringify(gateway?.args)}`);
  expect(
    bytes(gateway?.resources?.requests?.memory) >= 160 * 2 ** 20,
    `the gateway's memory request ${gateway?.resources?.requests?.memory} is below 160Mi (it uses about 133 MiB idle)`,
  );
  expect((find("Deployment", "gateway")?.spec.replicas ?? 1) >= replicas, `fewer than ${replicas} gateway replicas`);
  const env = gateway?.env ?? [];
  if (secrets) {
    for (const v of env) {
      expect(!SECRET_VARIABLES.includes(v.name), `the secret ${v.name} is plain env in the gateway's Deployment`);
    }
    for (const [variable, secret] of [
      ["OIDC_CLIENT_SECRET_FILE", "oidc-client-secret"],
      ["DATABASE_URL_FILE", "database-url"],
      ["SEALING_KEYS_FILE", "sealing-keys"],
    ]) {
      const path = env.find((v) => v.name === variable)?.value;
      const mount = gateway?.volumeMounts?.find((m) => m.mountPath === path);
      const volume = pod?.volumes?.find((v) => v.name === mount?.name);
      expect(
        path !== undefined && volume?.secret?.secretName === secret && find("Secret", secret),
        `${variable} is not a file of the Secret ${secret}`,
      );
    }
    expect(!env.some((v) => v.name === "ALLOW_INSECURE_HTTP" && v.value !== "false"), "ALLOW_INSECURE_HTTP is on");
    for (const v of env.filter((v) => /URL|ISSUER/.test(v.name) && v.value?.startsWith("http"))) {
      expect(v.value.startsWith("https://"), `${v.name} is not https: ${v.value}`);
    }
  }
  return { find, expect };
}
const gatewayOnly = [
  "Deployment gateway", "Service gateway", "Ingress gateway", "PodDisruptionBudget gateway",
  "Secret oidc-client-secret", "Secret database-url", "Secret sealing-keys",
];
const a = check("gateway+postgres", `${tmp}/k8s-a`, [
  ...gatewayOnly, "Deployment postgres", "Service postgres", "PersistentVolumeClaim postgres", "Secret postgres-password",
], { secrets: true, replicas: 2 });
const pg = a.find("Deployment", "postgres")?.spec.template.spec.containers[0];
a.expect(!pg?.env?.some((v) => v.name === "POSTGRES_PASSWORD"), "PostgreSQL's password is plain env");
a.expect(pg?.env?.some((v) => v.name === "POSTGRES_PASSWORD_FILE"), "PostgreSQL does not read its password from the Secret");
check("gateway", `${tmp}/k8s-b`, gatewayOnly, { secrets: true, replicas: 2 });
const c = check("bundled", `${tmp}/k8s-c`, [
  "Deployment postgres", "Deployment keycloak", "Deployment nextcloud", "Deployment gateway",
  "Service postgres", "Service keycloak", "Service nextcloud", "Service gateway",
  "Ingress keycloak", "Ingress nextcloud", "Ingress gateway",
  "PersistentVolumeClaim postgres", "PersistentVolumeClaim nextcloud",
  "ConfigMap keycloak-realm", "ConfigMap keycloak-users", "ConfigMap nextcloud-hook", "ConfigMap postgres-init",
], { secrets: false, replicas: 1 });
const realm = c.find("ConfigMap", "keycloak-realm")?.data ?? {};
c.expect(
  Object.values(realm)[0] === readFileSync("keycloak/realm-export.json", "utf8"),
  "the keycloak-realm ConfigMap does not hold keycloak/realm-export.json",
);
const hook = c.find("Deployment", "nextcloud")?.spec.template.spec.volumes.find((v) => v.name === "nextcloud-hook");
c.expect(hook?.configMap?.defaultMode === 0o555, "the Nextcloud hook is not mounted executable");
if (problems.length > 0) {
  for (const p of problems) console.error(`  ${p}`);
  console.error("check-deploy: FAIL: the kompose output lacks what the deployment relies on");
  process.exit(1);
}
console.log("check-deploy: each conversion has exactly the expected objects, probes, secrets, replicas and resources");
EOF
fi

# ---------------------------------------------------------------------------------------------------
step "5/5 image: docker build"
if ! command -v docker >/dev/null; then
  say "skipped: no docker client"
elif ! { if command -v timeout >/dev/null; then timeout 10 docker info; else docker info; fi; } >/dev/null 2>&1; then
  say "skipped: no Docker engine answers (the docker client is here, but docker build needs an engine)"
else
  tag="nextcloud-mcp-gateway:check-deploy"
  docker build --tag "$tag" .
  version=$(docker run --rm "$tag" --version)
  expected=$(node -p 'require("./package.json").version')
  [ "$version" = "$expected" ] || fail "the image reports version $version, package.json says $expected"
  say "image $tag builds and runs (version $version)"
  if docker compose version >/dev/null 2>&1; then
    docker compose --env-file .env.example config --quiet && say "docker compose config: valid"
  fi
fi

step "done: deployment checks passed"
