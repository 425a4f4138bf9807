// The administrator's sharing rules checked before a request, so that a refused share is explained
// in words that name the setting and what to do (Nextcloud checks them again and has the last word).
import { addDays, expiryProblem, todayOf, type ShareKind, type SharingPolicy } from "./model.ts";

/** What a new share asks for, as far as the policy is concerned. */
export interface ShareRequest {
  type: ShareKind;
  password?: string | undefined;
  expireDate?: string | undefined;
  /** Asks for create, update or delete on a link (public upload). */
  upload: boolean;
}

const linkish = (type: string) => type === "link" || type === "email";

/** Why the expiry date breaks the rules (format, past, the enforced maximum), or undefined. */
export function expiryRuleProblem(
  policy: SharingPolicy,
  type: string,
  expireDate: string,
  now: Date,
): string | undefined {
  const problem = expiryProblem(expireDate, now);
  if (problem !== undefined) return problem;
  const max = linkish(type) ? policy.linkMaxDays : policy.internalMaxDays;
  if (max !== null && expireDate > addDays(todayOf(now), max)) {
    return `This Nextcloud allows ${type} shares to last at most ${String(max)} days (administrator setting): give an expiry date on or before ${addDays(todayOf(now), max)}. Nothing was changed.`;
  }
  return undefined;
}

/** Why the policy refuses this new share, or undefined. */
export function createProblem(policy: SharingPolicy, r: ShareRequest, now: Date): string | undefined {
  if (!policy.apiEnabled) return "Sharing is turned off on this Nextcloud (administrator setting).";
  if (r.type === "group" && !policy.groupSharing) {
    return "Sharing with groups is turned off on this Nextcloud (administrator setting); share with each user instead.";
  }
  if (r.type === "link" && !policy.linksEnabled) {
    return "Public links are turned off on this Nextcloud (administrator setting); share with a user or group instead.";
  }
  if (r.type === "email" && !policy.mailShares) {
    return "Sharing by email is not available on this Nextcloud (the Share by mail app is off); share with a user, or make a link.";
  }
  if (r.type === "link" && r.upload && !policy.publicUpload) {
    return "Uploads through public links are turned off on this Nextcloud (administrator setting); give the link read permission only.";
  }
  const enforced =
    r.type === "link" ? policy.linkPasswordEnforced : r.type === "email" && policy.mailPasswordEnforced;
  if (enforced && (r.password === undefined || r.password === "")) {
    return `This Nextcloud requires a password on ${r.type === "link" ? "public links" : "email shares"} (administrator setting): give a password. Nothing was shared.`;
  }
  if (r.expireDate !== undefined) return expiryRuleProblem(policy, r.type, r.expireDate, now);
  return undefined;
}

/** Why the policy refuses removing the password of an existing share, or undefined. */
export function passwordRemovalProblem(policy: SharingPolicy, type: string): string | undefined {
  const enforced =
    type === "link" ? policy.linkPasswordEnforced : type === "email" && policy.mailPasswordEnforced;
  return enforced
    ? `This Nextcloud requires a password on ${type === "link" ? "public links" : "email shares"} (administrator setting), so it cannot be removed; give a new password instead. Nothing was changed.`
    : undefined;
}
