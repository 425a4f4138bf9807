/**
 * What MCP clients said they support when they initialized, remembered per user and client on this
 * replica. The endpoint is stateless, so a later tools/call does not carry the capabilities; this
 * memory lets the gateway use URL-mode elicitation with clients that declared it. It is a hint: on
 * another replica, after a restart or after `ttlMs`, the gateway falls back to plain text.
 */
export class ClientCapabilityMemory {
  readonly #entries = new Map<string, { urlElicitation: boolean; until: number }>();
  readonly #max: number;
  readonly #ttlMs: number;

  constructor(options: { max?: number; ttlMs?: number } = {}) {
    this.#max = options.max ?? 10_000;
    this.#ttlMs = options.ttlMs ?? 24 * 3600_000;
  }

  /** Records an `initialize` request's capabilities for `key` (issuer, subject and client id). */
  remember(key: string, capabilities: unknown, now = Date.now()): void {
    const elicitation = (capabilities as { elicitation?: unknown } | null | undefined)?.elicitation;
    const urlElicitation = typeof elicitation === "object" && elicitation !== null && "url" in elicitation;
    this.#entries.delete(key);
    this.#entries.set(key, { urlElicitation, until: now + this.#ttlMs });
    // Oldest first in insertion order: drop from the front when full.
    while (this.#entries.size > this.#max) {
      const oldest = this.#entries.keys().next().value;
      if (oldest === undefined) break;
      this.#entries.delete(oldest);
    }
  }

  /** Whether the client of `key` declared URL-mode elicitation (false when unknown or expired). */
  urlElicitation(key: string, now = Date.now()): boolean {
    const entry = this.#entries.get(key);
    if (!entry) return false;
    if (entry.until <= now) {
      this.#entries.delete(key);
      return false;
    }
    return entry.urlElicitation;
  }
}

/** The `params.capabilities` of an `initialize` request in a JSON-RPC body, if there is one. */
export function initializeCapabilities(body: unknown): unknown {
  const messages = Array.isArray(body) ? (body as unknown[]) : [body];
  for (const m of messages) {
    const msg = m as { method?: unknown; params?: { capabilities?: unknown } } | null;
    if (msg?.method === "initialize") return msg.params?.capabilities ?? {};
  }
  return undefined;
}
