/** The page frame (top bar, navigation, theme toggle) and the table of routes: one URL per view. */
import { useEffect, type ReactNode } from "react";
import { Link, navigate, useLocation } from "./router.js";
import { useTheme } from "./theme.js";
import { CompareView } from "./views/compare.js";
import { DeploymentsView } from "./views/deployments.js";
import { DeploymentView } from "./views/deployments-detail.js";
import { ExperimentsView } from "./views/experiments.js";
import { LoginPage, UserMenu } from "./views/login.js";
import { useSession } from "./views/login-session.js";
import { ModelView } from "./views/model.js";
import { ModelsView } from "./views/models.js";
import { MonitorView } from "./views/monitor.js";
import { MonitorsView } from "./views/monitors.js";
import { RunView } from "./views/run.js";
import { RunsView } from "./views/runs.js";

type Section = "experiments" | "models" | "deployments" | "monitors";

const ROUTES: [RegExp, Section, (m: string[]) => ReactNode][] = [
  [/^\/experiments\/?$/, "experiments", () => <ExperimentsView />],
  [/^\/experiments\/([^/]+)\/?$/, "experiments", (m) => <RunsView experimentId={m[1]!} />],
  [/^\/runs\/([^/]+)\/?$/, "experiments", (m) => <RunView runId={m[1]!} />],
  [/^\/compare\/?$/, "experiments", () => <CompareView />],
  [/^\/models\/?$/, "models", () => <ModelsView />],
  [/^\/models\/(.+?)\/?$/, "models", (m) => <ModelView name={m[1]!} />],
  [/^\/deployments\/?$/, "deployments", () => <DeploymentsView />],
  [/^\/deployments\/(.+?)\/?$/, "deployments", (m) => <DeploymentView name={m[1]!} />],
  [/^\/monitors\/?$/, "monitors", () => <MonitorsView />],
  [/^\/monitors\/(.+?)\/?$/, "monitors", (m) => <MonitorView name={m[1]!} />],
];

function match(path: string): { section: Section | undefined; view: ReactNode } {
  for (const [re, section, render] of ROUTES) {
    const m = re.exec(path);
    if (m) return { section, view: render(m.map((part, i) => (i === 0 ? part : safeDecode(part)))) };
  }
  return { section: undefined, view: <NotFound path={path} /> };
}

function safeDecode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

export function App() {
  const { path } = useLocation();
  const { choice, cycle } = useTheme();
  const session = useSession();
  useEffect(() => {
    if (path === "/") navigate("/experiments", { replace: true });
  }, [path]);
  const { section, view } = match(path);
  const nav = (to: string, name: Section, label: string) => (
    <Link
      to={to}
      className={section === name ? "current" : undefined}
      aria-current={section === name ? "page" : undefined}
    >
      {label}
    </Link>
  );
  return (
    <div className="app">
      <header className="topbar">
        <Link to="/experiments" className="brand">
          <img src="/favicon.svg" alt="" width={22} height={22} /> Slipway
        </Link>
        <nav aria-label="Sections">
          {nav("/experiments", "experiments", "Experiments")}
          {nav("/models", "models", "Models")}
          {nav("/deployments", "deployments", "Deployments")}
          {nav("/monitors", "monitors", "Monitors")}
        </nav>
        <span className="spacer" />
        <UserMenu />
        <button
          type="button"
          className="theme-toggle"
          onClick={cycle}
          title="Theme: system → dark → light"
          aria-label={`Theme: ${choice}. Change theme`}
        >
          {choice === "dark" ? "☾ Dark" : choice === "light" ? "☀ Light" : "◐ System"}
        </button>
      </header>
      <main key={`${path}#${session.generation}`}>
        {session.phase === "signed-out" ? <LoginPage /> : path === "/" ? null : view}
      </main>
    </div>
  );
}

function NotFound(props: { path: string }) {
  return (
    <div className="page">
      <h1>Nothing here</h1>
      <p>
        There is no page at <code>{props.path}</code>. Go to the <Link to="/experiments">experiments</Link>.
      </p>
    </div>
  );
}
