/**
 * The AuthService contract, run on every database backend: password hashing, the uniform failure of wrong
 * passwords and unknown users, lockout and its expiry, the per-address limit, API tokens (expiry, revocation,
 * reuse after revocation), sessions and CSRF, service accounts, permissions and the audit log.
 */
import assert from "node:assert/strict";
import { describe } from "node:test";
import { MlflowError } from "@slipway/protocol";
import { backendSuite, rejectsWith } from "../../testing/contract.js";
import type { TestDatabase } from "../../testing/databases.js";
import type { Principal } from "./auth-api.js";
import { AuthService, INVALID_CREDENTIALS, type AuthServiceOptions } from "./auth-service.js";
import { RateLimitedError } from "./login-limits.js";

/** Cheap hashing for tests that are not about its cost. */
const FAST = { N: 2 ** 10, r: 8, p: 1 };
const T0 = 1_800_000_000_000;

function basic(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`;
}

export function authServiceContract(label: string, open: () => Promise<TestDatabase | { skip: string }>): void {
  describe(`AuthService on ${label}`, () => {
    let clock = T0;
    const { test, subject } = backendSuite(async () => {
      const db = await open();
      return db;
    });
    let n = 0;
    const service = (options: Partial<AuthServiceOptions> = {}) =>
      new AuthService({ db: subject().db, now: () => clock, scrypt: FAST, ...options });
    /** A username no other test of this run uses (the suites share one database per backend). */
    const name = (prefix: string) => `${prefix}${++n}-${process.pid}`;
    const failure = async (p: Promise<unknown>) =>
      rejectsWith(p, "UNAUTHENTICATED", 401, new RegExp(`^${INVALID_CREDENTIALS.replace(/[.()]/g, "\\$&")}$`));

    test("stores scrypt hashes in the self-describing format, salted, never the password", async () => {
      const auth = new AuthService({ db: subject().db, basicCacheMs: 0 });
      const username = name("hash");
      await auth.createUser({ username, password: "correct horse" });
      const row = await subject().db.get<{ password_hash: string }>(
        `SELECT password_hash FROM auth_users WHERE username = ?`,
        [username],
      );
      assert.match(row!.password_hash, /^scrypt\$32768\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
      assert.ok(!row!.password_hash.includes("correct horse"));
      const other = name("hash");
      await auth.createUser({ username: other, password: "correct horse" });
      const row2 = await subject().db.get<{ password_hash: string }>(
        `SELECT password_hash FROM auth_users WHERE username = ?`,
        [other],
      );
      assert.notEqual(row2!.password_hash, row!.password_hash, "each hash has its own salt");
      const p = await auth.authenticate({ authorization: basic(username, "correct horse"), ip: "10.0.0.1" });
      assert.equal(p?.username, username);
      assert.equal(p?.via, "basic");
    });

    test("refuses short passwords with a clear message", async () => {
      await rejectsWith(
        service().createUser({ username: name("short"), password: "1234567" }),
        "INVALID_PARAMETER_VALUE",
        400,
        /at least 8 characters/,
      );
      await rejectsWith(
        service().createUser({ username: "bad name!", password: "long enough" }),
        "INVALID_PARAMETER_VALUE",
      );
    });

    test("a wrong password and an unknown user fail alike, in about the same time", async () => {
      const auth = new AuthService({ db: subject().db, basicCacheMs: 0, ipLimit: { maxFailures: 1000 } });
      const username = name("same");
      await auth.createUser({ username, password: "right password" });
      const messages: string[] = [];
      const time = async (authorization: string) => {
        const start = process.hrtime.bigint();
        await auth.authenticate({ authorization, ip: "10.0.0.2" }).then(
          () => assert.fail("must not authenticate"),
          (e: unknown) => {
            assert.ok(e instanceof MlflowError);
            messages.push(`${e.code} ${e.status} ${e.message}`);
          },
        );
        return Number(process.hrtime.bigint() - start) / 1e6;
      };
      await time(basic("warm-up-nobody", "x")); // the dummy hash is made on first use
      const wrong: number[] = [];
      const unknown: number[] = [];
      for (let i = 0; i < 4; i++) {
        wrong.push(await time(basic(username, `wrong ${i}`)));
        unknown.push(await time(basic(name("nobody"), `wrong ${i}`)));
      }
      assert.equal(new Set(messages).size, 1, `one message for every failure: ${[...new Set(messages)].join(" | ")}`);
      const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
      // loose bounds for a loaded machine: skipping the hash for unknown users would make this ratio about 0.01
      const ratio = median(unknown) / median(wrong);
      assert.ok(ratio > 0.33 && ratio < 3, `unknown user ${median(unknown)} ms vs wrong password ${median(wrong)} ms`);
      // the lockout of the real user must not have been the reason: reset it for the other tests
      await auth.updatePassword(username, "right password");
    });

    test("locks a user after N consecutive failures, for the configured time; a success resets the count", async () => {
      clock = T0;
      const auth = service({ lockout: { maxFailures: 3, lockMs: 60_000 }, ipLimit: { maxFailures: 1000 } });
      const username = name("lock");
      await auth.createUser({ username, password: "the password" });
      const ip = "10.0.1.1";
      // two failures, a success, two failures: never three in a row, so no lock
      await failure(auth.authenticate({ authorization: basic(username, "nope1"), ip }));
      await failure(auth.authenticate({ authorization: basic(username, "nope2"), ip }));
      assert.ok(await auth.authenticate({ authorization: basic(username, "the password"), ip }));
      await failure(auth.authenticate({ authorization: basic(username, "nope3"), ip }));
      await failure(auth.authenticate({ authorization: basic(username, "nope4"), ip }));
      // the third in a row locks
      await failure(auth.authenticate({ authorization: basic(username, "nope5"), ip }));
      await failure(auth.authenticate({ authorization: basic(username, "the password"), ip }));
      const audit = await auth.searchAudit({ username, action: "login." });
      assert.ok(
        audit.entries.some((e) => e.action === "login.locked"),
        "the audit log says why",
      );
      assert.equal(audit.entries[0]!.action, "login.locked");
      clock += 60_001;
      const p = await auth.authenticate({ authorization: basic(username, "the password"), ip });
      assert.equal(p?.username, username, "unlocked after the window");
      // and counting starts again from zero
      await failure(auth.authenticate({ authorization: basic(username, "nope6"), ip }));
      assert.ok(await auth.authenticate({ authorization: basic(username, "the password"), ip: "10.0.1.2" }));
    });

    test("limits failed attempts per address with 429 and a retry time", async () => {
      clock = T0;
      const auth = service({ ipLimit: { maxFailures: 4, windowMs: 60_000 } });
      const username = name("ip");
      await auth.createUser({ username, password: "the password" });
      for (let i = 0; i < 4; i++)
        await failure(auth.authenticate({ authorization: basic(name("x"), "guess"), ip: "10.9.9.9" }));
      await assert.rejects(
        auth.authenticate({ authorization: basic(username, "the password"), ip: "10.9.9.9" }),
        (e: unknown) => e instanceof RateLimitedError && e.status === 429 && e.retryAfterSeconds === 60,
      );
      // another address is not affected
      assert.ok(await auth.authenticate({ authorization: basic(username, "the password"), ip: "10.9.9.8" }));
      clock += 30_000;
      await assert.rejects(
        auth.authenticate({ authorization: basic(username, "the password"), ip: "10.9.9.9" }),
        (e: unknown) => e instanceof RateLimitedError && e.retryAfterSeconds === 30,
      );
      clock += 30_000;
      assert.ok(await auth.authenticate({ authorization: basic(username, "the password"), ip: "10.9.9.9" }));
    });

    test("tokens: accepted until revoked or expired; revoked tokens stay refused; shape checked", async () => {
      clock = T0;
      const auth = service({ ipLimit: { maxFailures: 1000 } });
      const user = await auth.createUser({ username: name("tok"), password: "the password" });
      const issued = await auth.createToken(user.id, { name: "ci" });
      assert.match(issued.token, /^slw_[A-Za-z0-9_-]{43}$/);
      const row = await subject().db.get<{ secret_hash: string; prefix: string }>(
        `SELECT secret_hash, prefix FROM auth_tokens WHERE id = ?`,
        [issued.tokenId],
      );
      assert.match(row!.secret_hash, /^[0-9a-f]{64}$/);
      assert.ok(!row!.secret_hash.includes(issued.token.slice(4)));
      assert.equal(row!.prefix, issued.token.slice(0, 12));
      const p = await auth.authenticate({ authorization: `Bearer ${issued.token}`, ip: "10.1.0.1" });
      assert.deepEqual({ ...p }, {
        userId: Number(user.id),
        username: user.username,
        isAdmin: false,
        kind: "user",
        via: "token",
        tokenId: issued.tokenId,
      } satisfies Principal);
      // last use is recorded, at most once a minute
      assert.equal((await auth.tokenInfo(issued.tokenId))?.last_used_at, T0);
      clock += 30_000;
      await auth.authenticate({ authorization: `Bearer ${issued.token}`, ip: "10.1.0.1" });
      assert.equal((await auth.tokenInfo(issued.tokenId))?.last_used_at, T0);
      clock += 31_000;
      await auth.authenticate({ authorization: `Bearer ${issued.token}`, ip: "10.1.0.1" });
      assert.equal((await auth.tokenInfo(issued.tokenId))?.last_used_at, T0 + 61_000);

      // one character changed (never to itself: a token ending in "A" stayed valid, 1 run in 64)
      const altered = `${issued.token.slice(0, -1)}${issued.token.endsWith("A") ? "B" : "A"}`;
      assert.notEqual(altered, issued.token);
      await failure(auth.authenticate({ authorization: `Bearer ${altered}`, ip: "10.1.0.1" }));
      await failure(auth.authenticate({ authorization: "Bearer not-a-token", ip: "10.1.0.1" }));

      const owner: Principal = {
        userId: Number(user.id),
        username: user.username,
        isAdmin: false,
        kind: "user",
        via: "token",
      };
      const stranger: Principal = { ...owner, userId: Number(user.id) + 100_000, username: "someone-else" };
      await rejectsWith(auth.revokeToken(issued.tokenId, stranger), "RESOURCE_DOES_NOT_EXIST", 404);
      await auth.revokeToken(issued.tokenId, owner);
      await failure(auth.authenticate({ authorization: `Bearer ${issued.token}`, ip: "10.1.0.1" }));
      await failure(auth.authenticate({ authorization: `Bearer ${issued.token}`, ip: "10.1.0.1" }));
      await rejectsWith(auth.revokeToken(issued.tokenId, owner), "INVALID_PARAMETER_VALUE", 400, /already revoked/);
      const rejected = await auth.searchAudit({ action: "token.rejected", since: T0 });
      assert.ok(rejected.entries.some((e) => e.details?.reason === "revoked" && e.details.token_id === issued.tokenId));

      const short = await auth.createToken(user.id, { name: "short", expiresAt: clock + 1000 });
      assert.ok(await auth.authenticate({ authorization: `Bearer ${short.token}`, ip: "10.1.0.1" }));
      clock += 1000;
      await failure(auth.authenticate({ authorization: `Bearer ${short.token}`, ip: "10.1.0.1" }));
      await rejectsWith(auth.createToken(user.id, { name: "past", expiresAt: clock - 1 }), "INVALID_PARAMETER_VALUE");
      await rejectsWith(auth.createToken(user.id, { name: " " }), "INVALID_PARAMETER_VALUE");
      const listed = await auth.listTokens(user.id);
      assert.deepEqual(listed.map((t) => t.name).sort(), ["ci", "short"]);
      assert.ok(listed.every((t) => !("secret" in t) && !("secret_hash" in t)));
    });

    test("sessions: cookie authenticates, CSRF verified in constant time, logout and expiry end it", async () => {
      clock = T0;
      const auth = service({ sessionTtlMs: 10_000, ipLimit: { maxFailures: 1000 } });
      const user = await auth.createUser({ username: name("sess"), password: "the password" });
      const s = await auth.createSession(user.id, { ip: "10.2.0.1", userAgent: "test" });
      const other = await auth.createSession(user.id, { ip: "10.2.0.1" });
      assert.equal(s.expiresAt, T0 + 10_000);
      const p = await auth.authenticate({ sessionCookie: s.sessionCookie, ip: "10.2.0.1" });
      assert.equal(p?.via, "session");
      assert.equal(p?.sessionId, s.sessionId);
      assert.equal(await auth.verifyCsrf(s.sessionId, s.csrfToken), true);
      assert.equal(await auth.verifyCsrf(s.sessionId, other.csrfToken), false, "another session's token");
      assert.equal(await auth.verifyCsrf(s.sessionId, ""), false);
      assert.equal(await auth.verifyCsrf("no-such-session", s.csrfToken), false);
      await auth.endSession(s.sessionCookie);
      await failure(auth.authenticate({ sessionCookie: s.sessionCookie, ip: "10.2.0.1" }));
      assert.ok(await auth.authenticate({ sessionCookie: other.sessionCookie, ip: "10.2.0.1" }));
      clock += 10_000;
      await failure(auth.authenticate({ sessionCookie: other.sessionCookie, ip: "10.2.0.1" }));
      // no credentials at all: anonymous, not an error
      assert.equal(await auth.authenticate({ ip: "10.2.0.1" }), null);
    });

    test("service accounts have no password and authenticate with tokens only", async () => {
      clock = T0;
      const auth = service({ ipLimit: { maxFailures: 1000 } });
      const sa = await auth.createUser({ username: name("svc"), kind: "service_account" });
      assert.equal(sa.password_hash, null);
      assert.equal(sa.kind, "service_account");
      await failure(auth.authenticate({ authorization: basic(sa.username, ""), ip: "10.3.0.1" }));
      await failure(auth.authenticate({ authorization: basic(sa.username, "anything at all"), ip: "10.3.0.1" }));
      await rejectsWith(
        auth.updatePassword(sa.username, "a new password"),
        "INVALID_PARAMETER_VALUE",
        400,
        /service account/,
      );
      await rejectsWith(
        auth.createUser({ username: name("svc"), kind: "service_account", password: "x".repeat(10) }),
        "INVALID_PARAMETER_VALUE",
      );
      const token = await auth.createToken(sa.id, { name: "deploy" });
      const p = await auth.authenticate({ authorization: `Bearer ${token.token}`, ip: "10.3.0.1" });
      assert.equal(p?.kind, "service_account");
    });

    test("a changed password or a deleted user invalidates cached basic-auth verifications", async () => {
      clock = T0;
      const auth = service({ basicCacheMs: 60_000, ipLimit: { maxFailures: 1000 } });
      const username = name("cache");
      await auth.createUser({ username, password: "first password" });
      assert.ok(await auth.authenticate({ authorization: basic(username, "first password"), ip: "10.4.0.1" }));
      assert.ok(await auth.authenticate({ authorization: basic(username, "first password"), ip: "10.4.0.1" }));
      await auth.updatePassword(username, "second password");
      await failure(auth.authenticate({ authorization: basic(username, "first password"), ip: "10.4.0.1" }));
      assert.ok(await auth.authenticate({ authorization: basic(username, "second password"), ip: "10.4.0.1" }));
      await auth.deleteUser(username);
      await failure(auth.authenticate({ authorization: basic(username, "second password"), ip: "10.4.0.1" }));
    });

    test("permissions: create, read, update, delete, defaults, creator grants, renames and user deletion", async () => {
      const auth = service({ defaultPermission: "READ" });
      const user = await auth.createUser({ username: name("perm"), password: "the password" });
      const admin = await auth.createUser({ username: name("admin"), password: "the password", isAdmin: true });
      const who = (u: typeof user): Principal => ({
        userId: Number(u.id),
        username: u.username,
        isAdmin: Number(u.is_admin) === 1,
        kind: "user",
        via: "basic",
      });
      // experiment ids in the tracking service's spelling: a grant on "0042" is a grant on experiment 42
      await auth.createPermission("experiment", "0042", user.username, "NO_PERMISSIONS");
      assert.equal(await auth.experimentPermission(Number(user.id), "42"), "NO_PERMISSIONS");
      assert.equal(await auth.effectivePermission(who(user), "experiment", "042"), "NO_PERMISSIONS");
      assert.equal((await auth.getPermission("experiment", "42", user.username)).permission, "NO_PERMISSIONS");
      await auth.deletePermission("experiment", "00042", user.username);
      assert.equal(await auth.experimentPermission(Number(user.id), "42"), null);
      const exp = name("exp");
      assert.equal(await auth.effectivePermission(who(user), "experiment", exp), "READ");
      assert.equal(await auth.effectivePermission(who(admin), "experiment", exp), "MANAGE");
      await auth.createPermission("experiment", exp, user.username, "EDIT");
      await rejectsWith(
        auth.createPermission("experiment", exp, user.username, "READ"),
        "RESOURCE_ALREADY_EXISTS",
        400,
      );
      await rejectsWith(
        auth.createPermission("experiment", exp, user.username, "WRITE"),
        "INVALID_PARAMETER_VALUE",
        400,
      );
      await rejectsWith(
        auth.createPermission("experiment", exp, "no-such-user", "READ"),
        "RESOURCE_DOES_NOT_EXIST",
        404,
      );
      assert.equal((await auth.getPermission("experiment", exp, user.username)).permission, "EDIT");
      assert.equal(await auth.experimentPermission(user.id, exp), "EDIT");
      await auth.updatePermission("experiment", exp, user.username, "NO_PERMISSIONS");
      assert.equal(await auth.effectivePermission(who(user), "experiment", exp), "NO_PERMISSIONS");
      await auth.deletePermission("experiment", exp, user.username);
      await rejectsWith(auth.getPermission("experiment", exp, user.username), "RESOURCE_DOES_NOT_EXIST", 404);
      await rejectsWith(auth.updatePermission("experiment", exp, user.username, "READ"), "RESOURCE_DOES_NOT_EXIST");
      await rejectsWith(auth.deletePermission("experiment", exp, user.username), "RESOURCE_DOES_NOT_EXIST");

      const model = name("model");
      await auth.grantCreator(user.id, { registeredModelName: model });
      await auth.grantCreator(user.id, { experimentId: exp });
      assert.equal(await auth.registeredModelPermission(user.id, model), "MANAGE");
      assert.deepEqual([...(await auth.experimentPermissions(user.id))], [[exp, "MANAGE"]]);
      assert.equal(await auth.renameRegisteredModel(model, `${model}-renamed`), 1);
      assert.equal(await auth.registeredModelPermission(user.id, model), null);
      assert.deepEqual([...(await auth.registeredModelPermissions(user.id))], [[`${model}-renamed`, "MANAGE"]]);
      const mlflow = await auth.mlflowUser(user);
      assert.deepEqual(mlflow, {
        id: Number(user.id),
        username: user.username,
        is_admin: false,
        experiment_permissions: [{ experiment_id: exp, user_id: Number(user.id), permission: "MANAGE" }],
        registered_model_permissions: [{ name: `${model}-renamed`, user_id: Number(user.id), permission: "MANAGE" }],
      });
      await auth.deleteUser(user.username);
      const left = await subject().db.get<{ n: number }>(
        `SELECT COUNT(*) AS n FROM auth_experiment_permissions WHERE user_id = ?`,
        [user.id],
      );
      assert.equal(Number(left!.n), 0, "permissions go with the user");
    });

    test("OIDC identities map to one user each; admin follows the groups; local names are not taken over", async () => {
      const auth = service();
      const username = name("sso");
      const first = await auth.upsertOidcUser({
        issuer: "https://idp.test",
        subject: "s1",
        username,
        groups: [],
        isAdmin: false,
      });
      const again = await auth.upsertOidcUser({
        issuer: "https://idp.test",
        subject: "s1",
        username,
        groups: ["admins"],
        isAdmin: true,
      });
      assert.equal(again.userId, first.userId);
      assert.equal(again.isAdmin, true);
      // no admin groups configured (isAdmin undefined): the flag stays as it is, whichever way it was set
      const undecided = { issuer: "https://idp.test", subject: "s1", username, groups: [] };
      assert.equal((await auth.upsertOidcUser(undecided)).isAdmin, true);
      await auth.setAdmin(username, false);
      assert.equal((await auth.upsertOidcUser(undecided)).isAdmin, false);
      const fresh = await auth.upsertOidcUser({ ...undecided, subject: "s3", username: name("sso-new") });
      assert.equal(fresh.isAdmin, false);
      const local = name("local");
      await auth.createUser({ username: local, password: "the password" });
      await rejectsWith(
        auth.upsertOidcUser({ issuer: "https://idp.test", subject: "s2", username: local, groups: [], isAdmin: true }),
        "PERMISSION_DENIED",
      );
    });

    test("audit search filters by user, action and time, newest first, in pages", async () => {
      clock = T0 + 5_000_000;
      const auth = service();
      const principal: Principal = { userId: 1, username: name("auditor"), isAdmin: true, kind: "user", via: "basic" };
      for (let i = 0; i < 5; i++) {
        clock += 1000;
        await auth.audit({
          principal,
          action: i % 2 === 0 ? "experiments.create" : "experiments.delete",
          method: "POST",
          path: "/api/2.0/mlflow/experiments/create",
          resourceType: "experiment",
          resourceId: String(i),
          status: 200,
          ip: "10.5.0.1",
          details: { i },
        });
      }
      const all = await auth.searchAudit({ username: principal.username });
      assert.deepEqual(
        all.entries.map((e) => e.resource_id),
        ["4", "3", "2", "1", "0"],
      );
      assert.equal(all.entries[0]!.details?.i, 4);
      const creates = await auth.searchAudit({ username: principal.username, action: "experiments.create" });
      assert.deepEqual(
        creates.entries.map((e) => e.resource_id),
        ["4", "2", "0"],
      );
      const window = await auth.searchAudit({
        username: principal.username,
        since: T0 + 5_002_000,
        until: T0 + 5_004_000,
      });
      assert.deepEqual(
        window.entries.map((e) => e.resource_id),
        ["2", "1"],
      );
      const page1 = await auth.searchAudit({ username: principal.username, maxResults: 2 });
      const page2 = await auth.searchAudit({
        username: principal.username,
        maxResults: 2,
        pageToken: page1.next_page_token!,
      });
      const page3 = await auth.searchAudit({
        username: principal.username,
        maxResults: 2,
        pageToken: page2.next_page_token!,
      });
      assert.deepEqual(
        [...page1.entries, ...page2.entries, ...page3.entries].map((e) => e.resource_id),
        ["4", "3", "2", "1", "0"],
      );
      assert.equal(page3.next_page_token, undefined);
      await rejectsWith(auth.searchAudit({ pageToken: "garbage" }), "INVALID_PARAMETER_VALUE");
      await rejectsWith(auth.searchAudit({ maxResults: 0 }), "INVALID_PARAMETER_VALUE");
    });
  });
}
