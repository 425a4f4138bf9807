// Configuration: the one zod schema of environment variables (which also generates
// docs/configuration.md) and loadConfig(env). Only this folder reads the environment's shape.
export { ConfigError, loadConfig, type Config } from "./load.ts";
export { isLoopbackHost, variables, type VariableName } from "./schema.ts";
export { renderConfigurationDoc } from "./docs.ts";
