import type { SessionCreatedEvent } from "@session-api/client";
import { useCallback, useEffect, useState } from "react";
import { useMutation, useQuery } from "urql";
import { ActivityLog } from "../components/activity-log";
import { ChangePasswordForm } from "../components/change-password-form";
import { NewSignInBanner } from "../components/new-sign-in-banner";
import { SessionList, type SessionRow } from "../components/session-list";
import { useAuth } from "../lib/auth";
import { describeError } from "../lib/errors";
import { useFreshSession } from "../lib/use-fresh-session";
import { MySecurityEventsQuery, MySessionsQuery, RevokeSessionMutation, SecureAccountMutation } from "../operations";

/**
 * Devices & security: the live session list, sign-out here, elsewhere or everywhere else, and
 * the security activity log. Sessions that end anywhere drop out of the list as the server
 * announces them (`sessionRevoked`), and new sign-ins appear the same way (`sessionCreated`),
 * with a banner whose "This wasn't me" secures the account and asks for a new password.
 */
export function DevicesPage() {
  const auth = useAuth();
  const email = auth.state.user?.email;
  const [sessionsResult, refetchSessions] = useQuery({ query: MySessionsQuery });
  const [eventsResult, refetchEvents] = useQuery({ query: MySecurityEventsQuery, variables: { first: 20 } });
  const [, revokeSession] = useMutation(RevokeSessionMutation);
  const [, secureAccount] = useMutation(SecureAccountMutation);
  const [added, setAdded] = useState<readonly SessionRow[]>([]);
  const [newSignIn, setNewSignIn] = useState<SessionCreatedEvent | null>(null);
  const [changingPassword, setChangingPassword] = useState(false);
  const [ended, setEnded] = useState<ReadonlySet<string>>(new Set());
  const [busyId, setBusyId] = useState<string | null>(null);
  const [message, setMessage] = useState<{ text: string; error?: boolean } | null>(null);
  const { withFreshSession, dialog } = useFreshSession();

  const refetch = useCallback(() => {
    refetchSessions({ requestPolicy: "network-only" });
    refetchEvents({ requestPolicy: "network-only" });
  }, [refetchSessions, refetchEvents]);

  // This device's own end is the SDK's business (it signs the app out); others leave the list
  // as the SDK hears of them over its live connection.
  useEffect(
    () =>
      auth.onAuthStateChange((event) => {
        if (event.type !== "OTHER_SESSION_ENDED") return;
        setEnded((prev) => new Set(prev).add(event.sessionId));
        refetch();
      }),
    [auth, refetch],
  );

  // A sign-in elsewhere shows at once, from the event itself; the refetch then confirms it.
  useEffect(
    () =>
      auth.onSessionCreated((event) => {
        setAdded((prev) => [...prev.filter((s) => s.id !== event.session.id), { ...event.session, current: false }]);
        setNewSignIn(event);
        refetch();
      }),
    [auth, refetch],
  );

  useEffect(() => {
    const onVisible = () => document.visibilityState === "visible" && refetch();
    document.addEventListener("visibilitychange", onVisible);
    return () => document.removeEventListener("visibilitychange", onVisible);
  }, [refetch]);

  const listed = sessionsResult.data?.mySessions ?? [];
  const sessions = [...listed, ...added.filter((a) => !listed.some((s) => s.id === a.id))].filter((s) => !ended.has(s.id));
  const others = sessions.filter((s) => !s.current).length;

  async function run(label: string, action: () => Promise<string>) {
    setMessage(null);
    try {
      setMessage({ text: await withFreshSession(label, action) });
    } catch (error) {
      if (error instanceof Error && error.message === "cancelled") return;
      setMessage({ text: describeError(error), error: true });
    } finally {
      setBusyId(null);
      refetch();
    }
  }

  const revoke = (id: string) => {
    setBusyId(id);
    void run("Sign out this device", async () => {
      const result = await revokeSession({ id });
      if (result.error) throw result.error;
      if (result.data?.revokeSession) setEnded((prev) => new Set(prev).add(id));
      return result.data?.revokeSession ? "That device was signed out." : "That session had already ended.";
    });
  };

  const notMe = () =>
    void run("Secure your account", async () => {
      const result = await secureAccount({});
      if (result.error) throw result.error;
      const count = result.data?.secureAccount ?? 0;
      setNewSignIn(null);
      setChangingPassword(true);
      return `Signed out ${count} other ${count === 1 ? "device" : "devices"}. Now change your password.`;
    });

  const signOutOthers = () =>
    void run("Sign out all other devices", async () => {
      const count = await auth.signOutOtherDevices();
      return `Signed out ${count} other ${count === 1 ? "device" : "devices"}.`;
    });

  return (
    <main className="page" data-testid="devices-page">
      <header className="top">
        <div>
          <h1>Devices &amp; security</h1>
          <p className="hint">
            Signed in as <strong data-testid="user-email">{email}</strong>
          </p>
        </div>
        <button type="button" className="secondary" onClick={() => void auth.signOut()} data-testid="sign-out">
          Sign out
        </button>
      </header>

      {newSignIn && !ended.has(newSignIn.session.id) && (
        <NewSignInBanner event={newSignIn} onNotMe={notMe} onDismiss={() => setNewSignIn(null)} busy={busyId !== null} />
      )}

      {message && (
        <p className={message.error ? "error" : "notice"} role="status" data-testid="message">
          {message.text}
        </p>
      )}

      <section className="card">
        <div className="section-head">
          <h2>Your devices</h2>
          <div className="actions">
            <button type="button" className="secondary" onClick={refetch} data-testid="refresh">
              Refresh
            </button>
            <button
              type="button"
              className="danger"
              onClick={signOutOthers}
              disabled={others === 0}
              data-testid="sign-out-others"
            >
              Sign out all other devices ({others})
            </button>
          </div>
        </div>
        {sessionsResult.error && !sessionsResult.data ? (
          <p className="error">{describeError(sessionsResult.error)}</p>
        ) : (
          <SessionList sessions={sessions} onRevoke={revoke} busyId={busyId} />
        )}
      </section>

      {changingPassword && (
        <ChangePasswordForm
          onDone={(text) => {
            setChangingPassword(false);
            setMessage({ text });
            refetch();
          }}
        />
      )}

      <section className="card">
        <h2>Security activity</h2>
        <ActivityLog events={eventsResult.data?.mySecurityEvents.edges.map((e) => e.node) ?? []} />
      </section>
      {dialog}
    </main>
  );
}
