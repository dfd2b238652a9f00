import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./app.js";
import { startSession } from "./views/login-session.js";
import "./styles.css";

// before the first view asks for data, so its writes (searches are POSTs) wait for the session's CSRF token
void startSession();

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
