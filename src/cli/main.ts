// The command line (loaded by src/main.ts): parses it, loads the configuration, runs one command.
// Runs when imported (the process entry imports it once); SIGTERM/SIGINT drain the HTTP server.
import { parseArgs } from "node:util";
import { formatCheck, runCheck } from "./check.ts";
import { JOB_NAMES, runJobNow } from "./jobs.ts";
import { keyStatus } from "./keys.ts";
import { runMigrate } from "./migrate.ts";
import { startGateway } from "./serve.ts";
import { ConfigError, loadConfig, type Config } from "../config/index.ts";
import { describeError } from "../errors.ts";
import { createLogger } from "../log.ts";
import { VERSION } from "../version.ts";

const USAGE = `nextcloud-mcp-gateway ${VERSION}

Usage: nextcloud-mcp-gateway <command> [options]

Commands:
  serve [--no-migrate]  Start the gateway (applies pending database migrations first
                        unless --no-migrate is given).
  migrate               Apply pending database migrations and exit.
  check                 Validate the configuration, then test the IdP (discovery, keys,
                        client credentials, the audience of mcp:tools tokens), Nextcloud
                        and the database. Exits 1 when a test fails.
  jobs run <name>       Run a background job now, recorded in job_runs like a scheduled run:
                        housekeeping, grants-keepalive (refresh offline grants that are due),
                        grants-reencrypt (re-seal stored tokens under the first SEALING_KEYS key).
                        Exits 1 when the run failed.
  keys status           Show how many stored offline grants each key id seals and whether
                        SEALING_KEYS holds it (key ids and counts only). Exits 1 when rows are
                        sealed with a key SEALING_KEYS lacks.
  keys reencrypt        Re-seal every stored offline grant under the first key of SEALING_KEYS
                        (the grants-reencrypt job, now). Deletes nothing; exits 1 when a key is
                        missing (then no row changes) or wrong (those rows stay as they are).

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

/** Runs one job now and prints `<job>: <outcome> <counts>[ — <error>]`; exit code 1 when it failed. */
async function runJobCommand(cfg: Config, name: string): Promise<void> {
  // The first Ctrl-C / SIGTERM lets the job stop taking new work and record its run; a second exits.
  const interrupt = new AbortController();
  const stop = () => {
    if (interrupt.signal.aborted) process.exit(130);
    interrupt.abort(new Error("interrupted"));
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  try {
    const result = await runJobNow(cfg, createLogger(cfg.logLevel), name, interrupt.signal);
    process.stdout.write(
      `${result.job}: ${result.outcome} ${JSON.stringify(result.counts)}${result.error ? ` — ${result.error}` : ""}\n`,
    );
    if (result.outcome === "failed") process.exitCode = 1;
  } finally {
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
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
  if (rest.length > 0 && command !== "jobs" && command !== "keys")
    fail(`unexpected argument: ${rest.join(" ")}\n\n${USAGE}`, 2);
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
        fail(`usage: nextcloud-mcp-gateway jobs run <${JOB_NAMES.join("|")}>\n\n${USAGE}`, 2);
      const cfg = config();
      await runJobCommand(cfg, name);
      return;
    }
    case "keys": {
      const [verb, ...extra] = rest;
      if ((verb !== "status" && verb !== "reencrypt") || extra.length > 0)
        fail(`usage: nextcloud-mcp-gateway keys <status|reencrypt>\n\n${USAGE}`, 2);
      const cfg = config();
      if (verb === "reencrypt") {
        await runJobCommand(cfg, "grants-reencrypt");
        return;
      }
      const status = await keyStatus(cfg);
      process.stdout.write(status.text);
      if (!status.ok) process.exitCode = 1;
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
