import { type FormEvent, useState } from "react";
import { useAuth } from "../lib/auth";
import { describeError } from "../lib/errors";
import { navigate } from "../lib/router";

/** Sign in, or sign up with `mode="sign-up"`: both start a new session on this device. */
export function SignInPage({ mode, notice }: { mode: "sign-in" | "sign-up"; notice?: string }) {
  const auth = useAuth();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [deviceName, setDeviceName] = useState("");
  const [rememberMe, setRememberMe] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const signUp = mode === "sign-up";

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    const input = { email, password, deviceName: deviceName.trim() || undefined, rememberMe };
    try {
      await (signUp ? auth.signUp(input) : auth.signIn(input));
      navigate("/");
    } catch (caught) {
      setError(describeError(caught));
      setBusy(false);
    }
  }

  return (
    <main className="card narrow" data-testid={signUp ? "sign-up-page" : "sign-in-page"}>
      <h1>{signUp ? "Create an account" : "Sign in"}</h1>
      {notice && <p className="notice">{notice}</p>}
      <form onSubmit={submit}>
        <label>
          Email
          <input
            type="email"
            name="email"
            autoComplete="email"
            value={email}
            onChange={(e) => setEmail(e.target.value)}
            required
          />
        </label>
        <label>
          Password
          <input
            type="password"
            name="password"
            autoComplete={signUp ? "new-password" : "current-password"}
            minLength={signUp ? 8 : undefined}
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            required
          />
        </label>
        <label>
          Device name <span className="hint">(optional, shown in your device list)</span>
          <input name="deviceName" value={deviceName} onChange={(e) => setDeviceName(e.target.value)} maxLength={100} />
        </label>
        <label className="checkbox">
          <input
            type="checkbox"
            name="rememberMe"
            checked={rememberMe}
            onChange={(e) => setRememberMe(e.target.checked)}
            data-testid="remember-me"
          />
          Keep me signed in{" "}
          <span className="hint">(untick on a shared computer: you are signed out when the browser closes)</span>
        </label>
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy}>
          {signUp ? "Create account" : "Sign in"}
        </button>
      </form>
      <p className="switch">
        {signUp ? "Have an account? " : "New here? "}
        <a
          href={signUp ? "/sign-in" : "/sign-up"}
          onClick={(e) => {
            e.preventDefault();
            navigate(signUp ? "/sign-in" : "/sign-up");
          }}
        >
          {signUp ? "Sign in" : "Create an account"}
        </a>
      </p>
    </main>
  );
}
