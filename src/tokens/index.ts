// Nextcloud tokens for the gateway's work: made from a verified MCP token by token exchange
// (RFC 8693), cached per replica and shared by concurrent callers. Tokens from stored grants
// (refresh under the row lock) will come from here too.
export {
  DEFAULT_EXCHANGE_STALL_MS,
  DEFAULT_MAX_CONCURRENT_EXCHANGES,
  DEFAULT_MAX_EXCHANGED_TOKENS,
  DEFAULT_SKEW_SECONDS,
  DEFAULT_UNREACHABLE_HOLD_MS,
  TokenBroker,
  type TokenBrokerOptions,
  type TokenBrokerStats,
} from "./broker.ts";
export type { SlotsStats } from "./slots.ts";
export type { ExchangedToken } from "../idp/exchange.ts";
