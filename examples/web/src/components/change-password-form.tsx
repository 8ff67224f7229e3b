import { type FormEvent, useState } from "react";
import { useMutation } from "urql";
import { describeError } from "../lib/errors";
import { ChangePasswordMutation } from "../operations";

/**
 * Shown after "This wasn't me": whoever signed in knows the password, so ending their session
 * is not enough until it changes. changePassword also ends every other session again.
 */
export function ChangePasswordForm({ onDone }: { onDone(message: string): void }) {
  const [, changePassword] = useMutation(ChangePasswordMutation);
  const [currentPassword, setCurrent] = useState("");
  const [newPassword, setNew] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    const result = await changePassword({ currentPassword, newPassword });
    setBusy(false);
    if (result.error) setError(describeError(result.error));
    else onDone("Your password was changed. Every other device is signed out.");
  }

  return (
    <section className="card" data-testid="change-password">
      <h2>Now change your password</h2>
      <p className="hint">Whoever signed in knows your current password. Choose a new one to keep them out.</p>
      <form onSubmit={submit}>
        <label>
          Current password
          <input
            type="password"
            name="currentPassword"
            autoComplete="current-password"
            value={currentPassword}
            onChange={(e) => setCurrent(e.target.value)}
            required
          />
        </label>
        <label>
          New password
          <input
            type="password"
            name="newPassword"
            autoComplete="new-password"
            minLength={8}
            value={newPassword}
            onChange={(e) => setNew(e.target.value)}
            required
          />
        </label>
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy}>
          Change password
        </button>
      </form>
    </section>
  );
}
