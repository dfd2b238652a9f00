/** Light and dark themes: the system's choice (prefers-color-scheme) unless the person picked one. */
import { useCallback, useState } from "react";

export type ThemeChoice = "system" | "light" | "dark";
const KEY = "slipway.theme";

function read(): ThemeChoice {
  try {
    const value = localStorage.getItem(KEY);
    return value === "light" || value === "dark" ? value : "system";
  } catch {
    return "system";
  }
}

function apply(choice: ThemeChoice): void {
  if (choice === "system") delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = choice;
}

export function effectiveTheme(): "light" | "dark" {
  const chosen = document.documentElement.dataset.theme;
  if (chosen === "light" || chosen === "dark") return chosen;
  return matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
}

export function useTheme(): { choice: ThemeChoice; cycle: () => void } {
  const [choice, setChoice] = useState<ThemeChoice>(read);
  const cycle = useCallback(() => {
    setChoice((current) => {
      const next: ThemeChoice = current === "system" ? "dark" : current === "dark" ? "light" : "system";
      try {
        if (next === "system") localStorage.removeItem(KEY);
        else localStorage.setItem(KEY, next);
      } catch {
        // private mode: the choice lasts for this page only
      }
      apply(next);
      window.dispatchEvent(new Event("slipway:theme"));
      return next;
    });
  }, []);
  return { choice, cycle };
}
