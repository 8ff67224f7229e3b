import { navigate } from "../lib/router";
import { SIGN_OUT_REASONS, UNKNOWN_REASON } from "../lib/sign-out-reasons";

/** Shown when the session ended without this tab asking: it names the reason. */
export function SignedOutPage({ reason }: { reason?: string }) {
  const text = (reason && SIGN_OUT_REASONS[reason]) || UNKNOWN_REASON;
  return (
    <main className="card narrow signed-out" data-testid="signed-out" data-reason={reason ?? ""} role="alert">
      <h1>You were signed out</h1>
      <h2>{text.title}</h2>
      <p>{text.detail}</p>
      {reason && (
        <p className="hint">
          Reason: <code>{reason}</code>
        </p>
      )}
      <button type="button" onClick={() => navigate("/sign-in")}>
        Sign in again
      </button>
    </main>
  );
}
