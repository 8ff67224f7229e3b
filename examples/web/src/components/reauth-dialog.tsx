import { type FormEvent, useEffect, useRef, useState } from "react";
import { useAuth } from "../lib/auth";
import { describeError, errorCode } from "../lib/errors";

interface Props {
  /** Why the password is asked, e.g. "Sign out all other devices". */
  action: string;
  onConfirmed(): void;
  onCancel(): void;
}

/**
 * Asked when the server refuses a sensitive action because this session's password check is
 * not recent (SESSION_NOT_FRESH): the password is proved again with `auth.reauthenticate`,
 * then the caller retries the action.
 */
export function ReauthDialog({ action, onConfirmed, onCancel }: Props) {
  const auth = useAuth();
  const dialog = useRef<HTMLDialogElement>(null);
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    const element = dialog.current;
    element?.showModal();
    return () => element?.close();
  }, []);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await auth.reauthenticate(password);
      onConfirmed();
    } catch (caught) {
      setError(errorCode(caught).code === "INVALID_CREDENTIALS" ? "That password is not right." : describeError(caught));
      setBusy(false);
    }
  }

  return (
    <dialog ref={dialog} className="dialog" aria-labelledby="reauth-title" onCancel={onCancel} data-testid="reauth-dialog">
      <form onSubmit={submit}>
        <h2 id="reauth-title">Confirm it's you</h2>
        <p>
          <strong>{action}</strong> needs your password: this session last proved it too long ago.
        </p>
        <label>
          Password
          <input
            type="password"
            autoComplete="current-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            required
            autoFocus
          />
        </label>
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
        <div className="actions">
          <button type="button" className="secondary" onClick={onCancel}>
            Cancel
          </button>
          <button type="submit" disabled={busy}>
            Confirm
          </button>
        </div>
      </form>
    </dialog>
  );
}
