import { createClerkClient, verifyToken } from "@clerk/backend";
import { isClerkAPIResponseError } from "@clerk/backend/errors";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { idpClient, IdpRequestError } from "./client.ts";
import { startTestIdp, type TestIdp } from "./test.idp.ts";

/** The status of a rejected Clerk SDK call. */
async function clerkStatus(promise: Promise<unknown>): Promise<number | undefined> {
  try {
    await promise;
  } catch (error) {
    if (isClerkAPIResponseError(error)) return error.status;
    throw error;
  }
  throw new Error("expected the Clerk call to fail");
}

describe("Backend API through the real @clerk/backend client", () => {
  let idp: TestIdp;
  let clerk: ReturnType<typeof createClerkClient>;
  let userId: string;

  beforeAll(async () => {
    idp = await startTestIdp({ seed: true });
    clerk = createClerkClient({ secretKey: idp.secretKey, apiUrl: idp.url });
    ({ userId } = await idpClient(idp.url, { secretKey: idp.secretKey }).signUp({
      email: "bapi@example.test",
      password: "long enough",
      firstName: "Bea",
      lastName: "Api",
    }));
  });
  afterAll(() => idp.dispose());

  it("getUser returns a User object with Clerk's fields", async () => {
    const user = await clerk.users.getUser(userId);
    expect(user.id).toBe(userId);
    expect(user.firstName).toBe("Bea");
    expect(user.lastName).toBe("Api");
    expect(user.primaryEmailAddress?.emailAddress).toBe("bapi@example.test");
    expect(user.emailAddresses[0]?.verification?.status).toBe("verified");
    expect(user.publicMetadata).toEqual({});
    expect(user.privateMetadata).toEqual({});
    expect(user.passwordEnabled).toBe(true);
    expect(typeof user.createdAt).toBe("number");
    expect(user.updatedAt).toBeGreaterThanOrEqual(user.createdAt);
  });

  it("getUserList returns data and totalCount, newest first, with filters and paging", async () => {
    const list = await clerk.users.getUserList();
    expect(list.totalCount).toBe(4);
    expect(list.data.map((u) => u.primaryEmailAddress?.emailAddress)).toEqual([
      "bapi@example.test",
      "free@gatehouse.test",
      "pro@gatehouse.test",
      "admin@gatehouse.test",
    ]);
    const filtered = await clerk.users.getUserList({ emailAddress: ["pro@gatehouse.test"] });
    expect(filtered.totalCount).toBe(1);
    expect(filtered.data[0]?.publicMetadata).toEqual({ role: "user", plan: "free_user" });
    const page = await clerk.users.getUserList({ limit: 2, offset: 1, orderBy: "+created_at" });
    expect(page.totalCount).toBe(4);
    expect(page.data.map((u) => u.primaryEmailAddress?.emailAddress)).toEqual([
      "pro@gatehouse.test",
      "free@gatehouse.test",
    ]);
  });

  it("updateUserMetadata deep-merges, null deletes a key, and updatedAt strictly increases", async () => {
    const before = await clerk.users.getUser(userId);
    const first = await clerk.users.updateUserMetadata(userId, {
      publicMetadata: { role: "admin", prefs: { theme: "dark", lang: "en" } },
      privateMetadata: { note: "x" },
    });
    expect(first.publicMetadata).toEqual({ role: "admin", prefs: { theme: "dark", lang: "en" } });
    const second = await clerk.users.updateUserMetadata(userId, {
      publicMetadata: { plan: "pro", prefs: { lang: null, size: 2 } },
    });
    expect(second.publicMetadata).toEqual({ role: "admin", plan: "pro", prefs: { theme: "dark", size: 2 } });
    expect(second.privateMetadata).toEqual({ note: "x" });
    const third = await clerk.users.updateUserMetadata(userId, { publicMetadata: { role: null } });
    expect(third.publicMetadata).toEqual({ plan: "pro", prefs: { theme: "dark", size: 2 } });
    expect(first.updatedAt).toBeGreaterThan(before.updatedAt);
    expect(second.updatedAt).toBeGreaterThan(first.updatedAt);
    expect(third.updatedAt).toBeGreaterThan(second.updatedAt);
    expect((await clerk.users.getUser(userId)).publicMetadata).toEqual(third.publicMetadata);
  });

  it("replaceUserMetadata replaces the given field only", async () => {
    const user = await clerk.users.replaceUserMetadata(userId, { publicMetadata: { role: "user" } });
    expect(user.publicMetadata).toEqual({ role: "user" });
    expect(user.privateMetadata).toEqual({ note: "x" });
  });

  it("updateUser changes the name with a strictly newer updatedAt; unknown fields and users are refused", async () => {
    const before = await clerk.users.getUser(userId);
    const user = await clerk.users.updateUser(userId, { firstName: "Beatrix", lastName: "Api-Renamed" });
    expect([user.firstName, user.lastName]).toEqual(["Beatrix", "Api-Renamed"]);
    expect(user.updatedAt).toBeGreaterThan(before.updatedAt);
    expect((await clerk.users.getUser(userId)).firstName).toBe("Beatrix");
    const cleared = await clerk.users.updateUser(userId, { lastName: null as unknown as string });
    expect([cleared.firstName, cleared.lastName]).toEqual(["Beatrix", null]);
    expect(await clerkStatus(clerk.users.updateUser("user_missing", { firstName: "x" }))).toBe(404);
    const smuggled = await fetch(`${idp.url}/v1/users/${userId}`, {
      method: "PATCH",
      headers: { Authorization: `Bearer ${idp.secretKey}`, "Content-Type": "application/json" },
      body: JSON.stringify({ first_name: "Eve", public_metadata: { role: "admin" } }),
    });
    expect(smuggled.status).toBe(400);
    expect((await clerk.users.getUser(userId)).firstName).toBe("Beatrix");
  });

  it("answers unknown users with 404 and Clerk's error shape", async () => {
    expect(await clerkStatus(clerk.users.getUser("user_missing"))).toBe(404);
    expect(
      await clerkStatus(clerk.users.updateUserMetadata("user_missing", { publicMetadata: { a: 1 } })),
    ).toBe(404);
    expect(await clerkStatus(clerk.users.deleteUser("user_missing"))).toBe(404);
    const response = await fetch(`${idp.url}/v1/users/user_missing`, {
      headers: { Authorization: `Bearer ${idp.secretKey}` },
    });
    expect(response.headers.get("content-type")).toBe("application/json");
    const body = (await response.json()) as { errors: Array<Record<string, unknown>> };
    expect(body.errors[0]).toMatchObject({ code: "resource_not_found" });
    expect(body.errors[0]).toHaveProperty("long_message");
  });

  it("rejects a wrong or missing secret key with 401", async () => {
    const wrong = createClerkClient({ secretKey: "sk_test_wrong", apiUrl: idp.url });
    expect(await clerkStatus(wrong.users.getUser(userId))).toBe(401);
    expect(await clerkStatus(wrong.users.getUserList())).toBe(401);
    expect((await fetch(`${idp.url}/v1/users`)).status).toBe(401);
  });

  it("validates the metadata body", async () => {
    const response = await fetch(`${idp.url}/v1/users/${userId}/metadata`, {
      method: "PATCH",
      headers: { Authorization: `Bearer ${idp.secretKey}`, "Content-Type": "application/json" },
      body: JSON.stringify({ public_metadata: "admin" }),
    });
    expect(response.status).toBe(400);
  });

  it("serves the JWKS for verifyToken with secretKey and apiUrl", async () => {
    const { token } = await idpClient(idp.url, { secretKey: idp.secretKey }).signIn(
      "bapi@example.test",
      "long enough",
    );
    const claims = await verifyToken(token, {
      secretKey: idp.secretKey,
      apiUrl: idp.url,
      audience: "convex",
    });
    expect(claims.sub).toBe(userId);
  });

  it("deleteUser returns Clerk's deleted object and ends the user's sessions", async () => {
    const client = idpClient(idp.url, { secretKey: idp.secretKey });
    const { sessionId } = await client.signIn("bapi@example.test", "long enough");
    const deleted = await clerk.users.deleteUser(userId);
    expect(deleted).toMatchObject({ id: userId, deleted: true, object: "user" });
    expect(await clerkStatus(clerk.users.getUser(userId))).toBe(404);
    const error = await client.token(sessionId).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IdpRequestError);
    expect((error as IdpRequestError).status).toBe(401);
    expect((await clerk.users.getUserList()).totalCount).toBe(3);
  });
});

describe("updated_at under a clock that stands still", () => {
  it("still increases strictly with every change", async () => {
    const idp = await startTestIdp({ now: () => Date.UTC(2030, 0, 1) });
    try {
      const clerk = createClerkClient({ secretKey: idp.secretKey, apiUrl: idp.url });
      const { userId } = await idpClient(idp.url, { secretKey: idp.secretKey }).signUp({
        email: "still@example.test",
        password: "long enough",
      });
      const stamps = [(await clerk.users.getUser(userId)).updatedAt];
      for (const role of ["admin", "user", "admin"]) {
        stamps.push((await clerk.users.updateUserMetadata(userId, { publicMetadata: { role } })).updatedAt);
      }
      expect(stamps).toEqual([0, 1, 2, 3].map((n) => Date.UTC(2030, 0, 1) + n));
    } finally {
      await idp.dispose();
    }
  });
});
