#!/usr/bin/env node
// Process entry: parses the command line, loads the configuration, runs one command.
// The only module with side effects at import time; SIGTERM/SIGINT drain the HTTP server.
import { parseArgs } from "node:util";
import { formatCheck, runCheck } from "./cli/check.ts";
import { runJobNow } from "./cli/jobs.ts";
import { runMigrate } from "./cli/migrate.ts";
import { startGateway } from "./cli/serve.ts";
import { ConfigError, loadConfig, type Config } from "./config/index.ts";
import { describeError } from "./errors.ts";
import { createLogger } from "./log.ts";
import { VERSION } from "./version.ts";

const USAGE = `nextcloud-mcp-gateway ${VERSION}

Usage: nextcloud-mcp-gateway <command> [options]

Commands:
  serve [--no-migrate]  Start the gateway (applies pending database migrations first
                        unless --no-migrate is given).
  migrate               Apply pending database migrations and exit.
  check                 Validate the configuration, then test the IdP and the database.
  jobs run <name>       Run a background job now (housekeeping); recorded like a scheduled run.

Options:
  -h, --help            Show this help.
  -v, --version         Print the version.

Configuration comes from environment variables; see docs/configuration.md.
`;

function fail(message: string, code = 1): never {
  process.stderr.write(message.endsWith("\n") ? message : `${message}\n`);
  process.exit(code);
}

function config(): Config {
  try {
    return loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message, 2);
    throw err;
  }
}

async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: false,
    options: {
      help: { type: "boolean", short: "h" },
      version: { type: "boolean", short: "v" },
      "no-migrate": { type: "boolean" },
    },
  });
  if (values.version === true) {
    process.stdout.write(`${VERSION}\n`);
    return;
  }
  const [command, ...rest] = positionals;
  if (values.help === true || command === undefined || command === "help") {
    process.stdout.write(USAGE);
    return;
  }
  if (rest.length > 0 && command !== "jobs") fail(`unexpected argument: ${rest.join(" ")}\n\n${USAGE}`, 2);
  switch (command) {
    case "serve": {
      const cfg = config();
      const log = createLogger(cfg.logLevel);
      const gateway = await startGateway(cfg, log, { migrate: values["no-migrate"] !== true }).catch(
        (err: unknown) => {
          log.fatal({ err: describeError(err) }, "gateway failed to start");
          fail(`gateway failed to start: ${describeError(err)}`);
        },
      );
      let signals = 0;
      const stop = (signal: string) => {
        signals += 1;
        if (signals > 1) {
          log.warn({ signal }, "second signal: exiting now");
          process.exit(1);
        }
        gateway.shutdown(signal).then(
          () => process.exit(0),
          (err: unknown) => {
            log.error({ err: describeError(err) }, "shutdown failed");
            process.exit(1);
          },
        );
      };
      process.on("SIGTERM", stop);
      process.on("SIGINT", stop);
      return;
    }
    case "migrate": {
      const cfg = config();
      await runMigrate(cfg, createLogger(cfg.logLevel));
      return;
    }
    case "jobs": {
      const [verb, name, ...extra] = rest;
      if (verb !== "run" || name === undefined || extra.length > 0)
        fail(`usage: nextcloud-mcp-gateway jobs run <name>\n\n${USAGE}`, 2);
      const cfg = config();
      const result = await runJobNow(cfg, createLogger(cfg.logLevel), name);
      process.stdout.write(
        `${result.job}: ${result.outcome} ${JSON.stringify(result.counts)}${result.error ? ` — ${result.error}` : ""}\n`,
      );
      if (result.outcome === "failed") process.exitCode = 1;
      return;
    }
    case "check": {
      const cfg = config();
      const lines = await runCheck(cfg, createLogger("silent"));
      process.stdout.write(formatCheck(lines));
      if (lines.some((l) => !l.ok)) process.exitCode = 1;
      return;
    }
    default:
      fail(`unknown command: ${command}\n\n${USAGE}`, 2);
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  fail(`error: ${describeError(err)}`);
});
