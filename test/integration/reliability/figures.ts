// Figures a reliability scenario measured, for `npm run reliability` (reliability/run.ts) to put in
// its report. Written only when the runner asks (RELIABILITY_FIGURES_DIR); in the ordinary test run
// the scenarios are plain integration tests and their figures go nowhere.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface Figure {
  readonly id: string;
  readonly label: string;
  readonly value: number;
  readonly unit: string;
}

/** What one scenario file measured: figures by test, and notes for the reader. */
export class Figures {
  readonly #scenario: string;
  readonly #figures: Figure[] = [];
  readonly #notes: string[] = [];

  constructor(scenario: string) {
    this.#scenario = scenario;
  }

  add(id: string, label: string, value: number, unit = ""): void {
    this.#figures.push({ id: `${this.#scenario}.${id}`, label, value, unit });
  }

  note(text: string): void {
    this.#notes.push(text);
  }

  /** Writes `<dir>/<scenario>.json` when the runner set RELIABILITY_FIGURES_DIR; call in afterAll. */
  flush(): void {
    const dir = process.env.RELIABILITY_FIGURES_DIR;
    if (dir === undefined || dir === "") return;
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, `${this.#scenario}.json`),
      `${JSON.stringify({ figures: this.#figures, notes: this.#notes }, null, 2)}\n`,
    );
  }
}
