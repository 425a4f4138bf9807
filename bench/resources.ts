// What a bench starts (Keycloak, PostgreSQL, child processes, temporary directories), stopped in
// reverse order whatever happens: at the end, when the bench throws, and on Ctrl-C / SIGTERM.
import type { SectionResult } from "./report.ts";

const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause instanceof Error ? ` (${err.cause.message})` : "";
  return `${err.message}${cause}`;
}

/** What the bench started, stopped in reverse order whatever happens (also on a signal). */
export class Resources {
  readonly #stops: { name: string; stop: () => Promise<void>; kill: () => void }[] = [];
  /** Set by Ctrl-C / SIGTERM: the bench stops at its next step. */
  interrupted = false;

  /** Registers something started; `kill` is the synchronous last resort for signal and exit handlers. */
  add(name: string, stop: () => Promise<void>, kill: () => void = () => undefined): void {
    let stopping: Promise<void> | undefined;
    const once = () => (stopping ??= stop());
    this.#stops.push({
      name,
      stop: once,
      kill: () => {
        kill();
        void once().catch(() => undefined);
      },
    });
    this.check();
  }

  /** Throws when interrupted, so that nothing more is started. */
  check(): void {
    if (this.interrupted) throw new Error("interrupted");
  }

  /** Synchronous part only: signals the processes and starts stopping the rest. */
  killAll(): void {
    for (const s of [...this.#stops].reverse()) {
      try {
        s.kill();
      } catch {
        // best effort: the process may be gone already
      }
    }
  }

  /** Stops everything; returns what could not be stopped. */
  async stopAll(): Promise<string[]> {
    const problems: string[] = [];
    for (const s of this.#stops.splice(0).reverse()) {
      try {
        await s.stop();
      } catch (err) {
        problems.push(`could not stop ${s.name}: ${describe(err)}`);
      }
    }
    return problems;
  }
}

/**
 * Runs `measure` with a fresh {@link Resources} and stops everything it registered afterwards.
 * Ctrl-C / SIGTERM: signals every process at once, lets the bench stop at its next step and clean
 * up (Keycloak still starting is stopped once it is up), then exits. A second signal exits at once.
 * Other handlers (bench/child.ts's, which exit at once) are set aside meanwhile and put back after.
 * `what` names the things started, for the message on a signal.
 */
export async function withResources(
  what: string,
  measure: (resources: Resources) => Promise<SectionResult>,
): Promise<SectionResult> {
  const resources = new Resources();
  let cleanedUp: () => void = () => undefined;
  const done = new Promise<void>((resolve) => {
    cleanedUp = resolve;
  });
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals += 1;
    if (signals > 1) {
      process.stderr.write(`\nbench: second ${signal}; exiting now (Keycloak may be left running)\n`);
      process.exit(130);
    }
    resources.interrupted = true;
    resources.killAll();
    process.stderr.write(
      `\nbench: ${signal} received; stopping ${what} (waits for Keycloak if it is still starting; again to exit at once)\n`,
    );
    void done.then(() => process.exit(130));
  };
  const onExit = () => {
    resources.killAll();
  };
  const setAside = new Map(SIGNALS.map((signal) => [signal, process.listeners(signal)]));
  for (const signal of SIGNALS) {
    process.removeAllListeners(signal);
    process.on(signal, onSignal);
  }
  process.on("exit", onExit);
  try {
    return await measure(resources);
  } catch (err) {
    if (resources.interrupted) return { metrics: [], notes: [], failures: ["interrupted"] };
    throw err;
  } finally {
    const problems = await resources.stopAll();
    for (const signal of SIGNALS) {
      process.off(signal, onSignal);
      for (const listener of setAside.get(signal) ?? []) process.on(signal, listener);
    }
    process.off("exit", onExit);
    for (const p of problems) process.stderr.write(`bench: ${p}\n`);
    cleanedUp();
  }
}
