import type { ReactNode } from "react";

/** An error shown where it happened, in words, with a way to try again when there is one. */
export function ErrorBox(props: { error: Error | undefined; retry?: () => void; children?: ReactNode }) {
  if (!props.error) return null;
  return (
    <div className="error-box" role="alert">
      <span>{props.error.message}</span>
      {props.children}
      {props.retry && (
        <button type="button" className="link-button" onClick={props.retry}>
          Try again
        </button>
      )}
    </div>
  );
}

export function Loading(props: { what?: string }) {
  return (
    <div className="loading" aria-live="polite">
      Loading{props.what ? ` ${props.what}` : ""}…
    </div>
  );
}
