// A bound on the token exchanges one replica has in flight at the IdP, with a queue in arrival
// order behind it (ADR 0027). Without it, 1,000 users' first calls (a burst of new users, or every
// client coming back after a restart: the exchange cache is per replica) put 1,000 requests on the
// IdP at once; it shares its CPU among them, every answer comes late and the slowest pass the
// timeout. With it the IdP answers a few at a time, quickly, and the rest wait their turn here.
//
// Waiting here is not the IdP's time: the outbound timeout starts when the request is sent. A wait
// ends with an error only when the IdP itself stalls: no exchange in flight was answered for
// `stallMs` since the waiter arrived or since the last answer: then it would not answer this one
// either. (The broker's callers stop waiting on their own signals; the exchange they share goes on.)

/** Why a wait for a slot ended without one: the IdP answered nothing for `stallMs`. */
export class SlotsStalled extends Error {
  override readonly name = "SlotsStalled";
  /** Milliseconds the waiter waited. */
  readonly waitedMs: number;
  constructor(waitedMs: number, message: string) {
    super(message);
    this.waitedMs = waitedMs;
  }
}

/** What the holder of a slot reports when it gives it back. */
export type SlotOutcome = "answered" | "failed";

/** Counters and gauges of a {@link Slots}, for metrics. */
export interface SlotsStats {
  readonly limit: number;
  /** Slots held now. */
  readonly active: number;
  /** Callers waiting now. */
  readonly waiting: number;
  /** Acquisitions that had to wait (since the start). */
  readonly waited: number;
  /** Waits ended by {@link SlotsStalled}. */
  readonly stalled: number;
  /** Longest wait for a slot so far, in milliseconds. */
  readonly longestWaitMs: number;
}

interface Waiter {
  readonly at: number;
  readonly grant: (release: (outcome: SlotOutcome) => void) => void;
  readonly fail: (err: SlotsStalled) => void;
}

/** At most `limit` holders at once; the others wait in arrival order (see the file comment). */
export class Slots {
  readonly #limit: number;
  readonly #stallMs: number;
  readonly #now: () => number;
  readonly #queue: Waiter[] = [];
  #active = 0;
  #lastAnswerAt = Number.NEGATIVE_INFINITY;
  #timer: NodeJS.Timeout | undefined;
  #waited = 0;
  #stalled = 0;
  #longestWaitMs = 0;

  constructor(options: { limit: number; stallMs: number; now?: () => number }) {
    if (!Number.isSafeInteger(options.limit) || options.limit < 1) {
      throw new RangeError(`limit must be a positive integer, got ${String(options.limit)}`);
    }
    if (!Number.isFinite(options.stallMs) || options.stallMs <= 0) {
      throw new RangeError(`stallMs must be a positive number, got ${String(options.stallMs)}`);
    }
    this.#limit = options.limit;
    this.#stallMs = options.stallMs;
    this.#now = options.now ?? Date.now;
  }

  get stats(): SlotsStats {
    return {
      limit: this.#limit,
      active: this.#active,
      waiting: this.#queue.length,
      waited: this.#waited,
      stalled: this.#stalled,
      longestWaitMs: this.#longestWaitMs,
    };
  }

  /**
   * Resolves with a release function once a slot is free; call it exactly once, saying whether the
   * IdP answered (any answer, an error too) or not (timeout, connection failure).
   * @throws SlotsStalled when no holder's request was answered for `stallMs` while waiting.
   */
  acquire(): Promise<(outcome: SlotOutcome) => void> {
    if (this.#active < this.#limit && this.#queue.length === 0) {
      this.#active++;
      return Promise.resolve(this.#releaser());
    }
    this.#waited++;
    return new Promise((resolve, reject) => {
      this.#queue.push({ at: this.#now(), grant: resolve, fail: reject });
      if (this.#queue.length === 1) this.#arm();
    });
  }

  #releaser(): (outcome: SlotOutcome) => void {
    let released = false;
    return (outcome) => {
      if (released) return;
      released = true;
      if (outcome === "answered") this.#lastAnswerAt = this.#now();
      const next = this.#queue.shift();
      if (next === undefined) {
        this.#active--;
        this.#disarm();
        return;
      }
      this.#longestWaitMs = Math.max(this.#longestWaitMs, this.#now() - next.at);
      next.grant(this.#releaser());
      this.#arm();
    };
  }

  /** When the head of the queue (the longest waiter) gives up if nothing is answered meanwhile. */
  #deadlineOf(w: Waiter): number {
    return Math.max(w.at, this.#lastAnswerAt) + this.#stallMs;
  }

  #arm(): void {
    this.#disarm();
    const head = this.#queue[0];
    if (head === undefined) return;
    this.#timer = setTimeout(
      () => {
        this.#timer = undefined;
        this.#expire();
      },
      Math.max(0, this.#deadlineOf(head) - this.#now()),
    );
    this.#timer.unref();
  }

  #disarm(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Fails every waiter whose deadline passed (they are in arrival order, so a prefix). */
  #expire(): void {
    const now = this.#now();
    while (this.#queue.length > 0) {
      const head = this.#queue[0];
      if (head === undefined || this.#deadlineOf(head) > now) break;
      this.#queue.shift();
      this.#stalled++;
      const waitedMs = now - head.at;
      this.#longestWaitMs = Math.max(this.#longestWaitMs, waitedMs);
      head.fail(
        new SlotsStalled(
          waitedMs,
          `waited ${String(waitedMs)} ms for one of ${String(this.#limit)} exchange slots; the identity provider answered none of the exchanges in flight for ${String(Math.min(waitedMs, now - this.#lastAnswerAt))} ms`,
        ),
      );
    }
    this.#arm();
  }
}
