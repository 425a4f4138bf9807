// Token check: what verifying an access token costs the gateway, in-process (no HTTP).
// Uncached: verifyAccessToken (RS256 signature, iss, aud, exp, claims), timed call by call.
// Cached: createTokenVerifier with its default cache, the same token again and again, timed in bulk.
import { performance } from "node:perf_hooks";
import { createLocalJWKSet } from "jose";
import { createTokenVerifier, verifyAccessToken, type TokenExpectations } from "../src/auth/index.ts";
import { contentionNote, cpuSample, othersCores } from "./cpu.ts";
import { createBenchIdp, BENCH_ISSUER, keycloakClaims } from "./idp.ts";
import { metric, type SectionResult } from "./report.ts";
import { summarize } from "./stats.ts";

export interface TokenCheckOptions {
  /** Uncached verifications per round. */
  readonly iterations: number;
  readonly rounds: number;
  /** Cached verifications in total (split over `rounds`). */
  readonly cachedIterations: number;
}

export const TOKEN_CHECK_DEFAULTS: TokenCheckOptions = {
  iterations: 3000,
  rounds: 5,
  cachedIterations: 200_000,
};

const RESOURCE = "https://mcp.example.com/mcp";
/** A pinned clock: the token is an hour from expiry for the whole run. */
const NOW_MS = Math.floor(Date.now() / 1000) * 1000;

export async function runTokenCheck(
  options: TokenCheckOptions = TOKEN_CHECK_DEFAULTS,
): Promise<SectionResult> {
  const failures: string[] = [];
  const idp = await createBenchIdp();
  const getKey = createLocalJWKSet({ keys: [idp.publicJwk] });
  const expectations: TokenExpectations = { issuer: BENCH_ISSUER, audience: RESOURCE };
  const token = await idp.sign(keycloakClaims(RESOURCE, NOW_MS / 1000));

  const first = await verifyAccessToken(token, expectations, getKey, NOW_MS);
  if (first.scopes.join(" ") !== "openid mcp:tools mcp:write") {
    failures.push(`the token verified with unexpected scopes ${JSON.stringify(first.scopes)}`);
  }

  // Uncached: each call is timed on its own (performance.now() costs well under a microsecond).
  const warmup = Math.min(1000, options.iterations);
  for (let i = 0; i < warmup; i++) await verifyAccessToken(token, expectations, getKey, NOW_MS);
  const cpuStart = cpuSample();
  const samplesUs: number[] = [];
  const roundMeansUs: number[] = [];
  const cpuBefore = process.cpuUsage();
  for (let r = 0; r < options.rounds; r++) {
    const roundStart = performance.now();
    for (let i = 0; i < options.iterations; i++) {
      const t0 = performance.now();
      await verifyAccessToken(token, expectations, getKey, NOW_MS);
      samplesUs.push((performance.now() - t0) * 1000);
    }
    roundMeansUs.push(((performance.now() - roundStart) * 1000) / options.iterations);
  }
  const cpu = process.cpuUsage(cpuBefore);
  const cpuPerCallUs = (cpu.user + cpu.system) / (options.rounds * options.iterations);
  const uncached = summarize(samplesUs);

  // Cached: one miss, then hits only; timed per round since one hit is too short to time alone.
  const verifier = createTokenVerifier({ ...expectations, getKey, now: () => NOW_MS });
  await verifier.verify(token);
  const perRound = Math.max(1, Math.floor(options.cachedIterations / options.rounds));
  for (let i = 0; i < Math.min(20_000, perRound); i++) await verifier.verify(token);
  const cachedRoundNs: number[] = [];
  let cachedTotalMs = 0;
  for (let r = 0; r < options.rounds; r++) {
    const t0 = performance.now();
    for (let i = 0; i < perRound; i++) await verifier.verify(token);
    const ms = performance.now() - t0;
    cachedTotalMs += ms;
    cachedRoundNs.push((ms * 1e6) / perRound);
  }
  const cachedNs = (cachedTotalMs * 1e6) / (perRound * options.rounds);
  const others = othersCores(cpuStart, cpuSample());
  if (verifier.stats.misses !== 1) {
    failures.push(`the cached verifier missed ${verifier.stats.misses} times (expected exactly 1)`);
  }

  const range = (xs: readonly number[], digits: number) =>
    `${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)}`;
  return {
    metrics: [
      metric("token.uncached.mean", "uncached verify, mean", uncached.mean, "µs", { op: "<=", value: 100 }),
      metric("token.uncached.p50", "uncached verify, p50", uncached.p50, "µs"),
      metric("token.uncached.p99", "uncached verify, p99", uncached.p99, "µs"),
      metric("token.uncached.cpu", "uncached verify, CPU per call (all threads)", cpuPerCallUs, "µs"),
      metric("token.cached.ns", "cached verify, per op", cachedNs, "ns"),
      metric("token.cached.us", "cached verify, per op", cachedNs / 1000, "µs", { op: "<=", value: 5 }),
      metric("token.others_cores", "other processes' CPU meanwhile", others, "cores"),
    ],
    notes: [
      `RS256 with a 2048-bit key, a ${token.length}-byte Keycloak-shaped token, a local JWKS, a pinned clock.`,
      `Uncached: ${options.rounds} rounds of ${options.iterations} calls after ${warmup} warm-up calls, each call timed; round means ${range(roundMeansUs, 1)} µs. The budget applies to the mean (wall time); p99 is for information (it catches GC pauses). jose verifies through WebCrypto, whose RSA work runs on libuv's thread pool: the wall time includes that hop, the CPU time counts every thread of the process.`,
      `Cached: createTokenVerifier with its default cache (SHA-256 of the token as the key), ${options.rounds} rounds of ${perRound} calls after one miss and a warm-up; round means ${range(cachedRoundNs, 0)} ns.`,
      ...[contentionNote("the token checks", others)].filter((n) => n !== undefined),
    ],
    failures,
  };
}
