// Fetches the Keycloak distribution the tests and the sandbox run (mvn dependency:copy from Maven
// Central) into the cache outside the repository, unless it is there already.
import { ensureKeycloakDist, KEYCLOAK_VERSION } from "../test/harness/keycloak.ts";

const home = ensureKeycloakDist();
process.stderr.write(`setup: Keycloak ${KEYCLOAK_VERSION} at ${home}\n`);
