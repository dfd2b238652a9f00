/**
 * The login page a server started with --auth shows instead of a view when nobody is signed in: username and
 * password, and "Sign in with SSO" when the server has an identity provider. Plus the top bar's user menu.
 */
import { useState, type FormEvent } from "react";
import { ApiError, ssoLoginUrl } from "../api.js";
import { ErrorBox } from "../components/error-box.js";
import { useAction, useTitle } from "../hooks.js";
import { useLocation } from "../router.js";
import { signIn, signOut, useSession } from "./login-session.js";
import "./login.css";

function loginError(error: Error | undefined): Error | undefined {
  if (error instanceof ApiError && error.status === 401) {
    return new Error("Wrong username or password (or the account is locked for a while after failed attempts).");
  }
  return error;
}

export function LoginPage() {
  useTitle("Sign in");
  const { path, query } = useLocation();
  const { sso } = useSession();
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const action = useAction();
  const search = query.toString();
  const here = search === "" ? path : `${path}?${search}`;

  const submit = (event: FormEvent) => {
    event.preventDefault();
    void action.run(() => signIn(username.trim(), password));
  };

  return (
    <div className="page login-page">
      <form className="login-card" onSubmit={submit} aria-label="Sign in">
        <h1>Sign in to Slipway</h1>
        <label>
          Username
          <input
            name="username"
            autoComplete="username"
            autoFocus
            required
            value={username}
            onChange={(event) => setUsername(event.target.value)}
          />
        </label>
        <label>
          Password
          <input
            name="password"
            type="password"
            autoComplete="current-password"
            required
            value={password}
            onChange={(event) => setPassword(event.target.value)}
          />
        </label>
        <ErrorBox error={loginError(action.error)} />
        <button type="submit" className="primary" disabled={action.busy || username.trim() === ""}>
          {action.busy ? "Signing in…" : "Sign in"}
        </button>
        {sso && (
          <>
            <div className="login-or" aria-hidden="true">
              or
            </div>
            <a className="button sso-button" href={ssoLoginUrl(here)}>
              Sign in with SSO
            </a>
          </>
        )}
      </form>
    </div>
  );
}

/** Who is signed in, and the way out; nothing on servers without sign-in. */
export function UserMenu() {
  const { phase, user } = useSession();
  const action = useAction();
  if (phase !== "signed-in" || !user) return null;
  return (
    <span className="user-menu">
      <span className="user-name" title={user.is_admin ? "Administrator" : "Signed in"}>
        {user.username}
        {user.is_admin ? " (admin)" : ""}
      </span>
      <button type="button" disabled={action.busy} onClick={() => void action.run(signOut)}>
        Sign out
      </button>
    </span>
  );
}
