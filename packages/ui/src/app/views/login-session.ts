/**
 * The UI's sign-in state, for servers started with --auth. Without auth the server says so at start-up and
 * nothing here changes the app. With auth, the session (user and CSRF token) is read once; any 401 afterwards
 * (no session, or it expired) switches the app to the login page.
 */
import { useSyncExternalStore } from "react";
import {
  ApiError,
  getAuthConfig,
  getSession,
  holdWritesUntil,
  login,
  logout,
  onUnauthenticated,
  setCsrfToken,
  type SessionInfo,
  type SessionUser,
} from "../api.js";

export interface SessionState {
  /** checking: start-up, views render as usual; open: the server needs no sign-in. */
  phase: "checking" | "open" | "signed-in" | "signed-out";
  user?: SessionUser;
  /** The server offers "Sign in with SSO". */
  sso: boolean;
  /** Bumped at every sign-in, so views reload their data as the new user. */
  generation: number;
}

let state: SessionState = { phase: "checking", sso: false, generation: 0 };
const listeners = new Set<() => void>();

function set(next: Partial<SessionState>): void {
  state = { ...state, ...next };
  for (const listener of listeners) listener();
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function useSession(): SessionState {
  return useSyncExternalStore(subscribe, () => state);
}

function signedIn(session: SessionInfo): void {
  setCsrfToken(session.csrf_token);
  set({ phase: "signed-in", user: session.user, generation: state.generation + 1 });
}

function signedOut(): void {
  setCsrfToken(undefined);
  if (state.phase !== "open") set({ phase: "signed-out", user: undefined });
}

let started = false;

/** Asks the server whether it wants a sign-in and, if so, who is signed in. Runs once. */
export function startSession(): Promise<void> {
  if (started) return Promise.resolve();
  started = true;
  onUnauthenticated(signedOut);
  const probe = readSession();
  holdWritesUntil(probe);
  return probe;
}

async function readSession(): Promise<void> {
  let config: { enabled: boolean; auth?: boolean };
  try {
    config = await getAuthConfig();
  } catch {
    // an older server without the endpoint: it has no sign-in; a 401 later would still show the login page
    set({ phase: "open" });
    return;
  }
  if (config.auth !== true) {
    set({ phase: "open" });
    return;
  }
  set({ sso: config.enabled });
  try {
    const session = await getSession();
    // signed in before this page loaded (a password login in another tab, or back from the SSO provider)
    setCsrfToken(session.csrf_token);
    set({ phase: "signed-in", user: session.user });
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) signedOut();
    else set({ phase: "signed-out" });
  }
}

export async function signIn(username: string, password: string): Promise<void> {
  signedIn(await login(username, password));
}

export async function signOut(): Promise<void> {
  try {
    await logout();
  } finally {
    signedOut();
  }
}
