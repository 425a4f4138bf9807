// Keycloak admin calls the offline-access tests share.
import { randomBytes } from "node:crypto";
import { inject } from "vitest";
import { adminToken, REALM } from "../../harness/keycloak.ts";

const kc = inject("keycloak");

/** Calls the admin REST API of the test realm; returns the parsed JSON body, if any. */
export async function admin(method: string, path: string, body?: unknown): Promise<unknown> {
  const res = await fetch(`${kc.url}/admin/realms/${REALM}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${await adminToken(kc)}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!res.ok) throw new Error(`admin ${method} ${path}: ${res.status} ${await res.text()}`);
  const text = await res.text();
  return text === "" ? undefined : (JSON.parse(text) as unknown);
}

/** A user of its own for a test that ends sessions, so no other test's sessions are touched. */
export async function createUser(
  prefix: string,
): Promise<{ id: string; username: string; password: string }> {
  const username = `${prefix}-${randomBytes(4).toString("hex")}`;
  const password = `pw-${randomBytes(12).toString("hex")}`;
  await admin("POST", "/users", {
    username,
    enabled: true,
    email: `${username}@example.com`,
    emailVerified: true,
    firstName: "Test",
    lastName: prefix,
    credentials: [{ type: "password", value: password, temporary: false }],
  });
  const [user] = (await admin("GET", `/users?username=${username}&exact=true`)) as { id: string }[];
  if (!user) throw new Error(`user ${username} not created`);
  return { id: user.id, username, password };
}

/** The ids of the user's offline sessions with the gateway client. */
export async function offlineSessionIds(userId: string): Promise<string[]> {
  const [client] = (await admin("GET", "/clients?clientId=mcp-gateway")) as { id: string }[];
  if (!client) throw new Error("no mcp-gateway client");
  const sessions = (await admin("GET", `/users/${userId}/offline-sessions/${client.id}`)) as { id: string }[];
  return sessions.map((s) => s.id);
}
