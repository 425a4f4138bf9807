// The unit project alone, for StrykerJS (stryker.config.json): its vitest runner takes a config file,
// not a project name, and mutation runs must never start PostgreSQL or Keycloak.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/unit/**/*.test.ts"],
  },
});
