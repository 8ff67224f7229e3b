import { useCallback, useEffect, useState } from "react";
import { useMutation, useQuery } from "urql";
import { ActivityLog } from "../components/activity-log";
import { SessionList } from "../components/session-list";
import { useAuth } from "../lib/auth";
import { describeError } from "../lib/errors";
import { useFreshSession } from "../lib/use-fresh-session";
import { MySecurityEventsQuery, MySessionsQuery, RevokeSessionMutation } from "../operations";

/**
 * Devices & security: the live session list, sign-out here, elsewhere or everywhere else, and
 * the security activity log. Sessions that end anywhere drop out of the list as the server
 * announces them (`sessionRevoked`), with no reload.
 */
export function DevicesPage() {
  const auth = useAuth();
  const email = auth.state.user?.email;
  const [sessionsResult, refetchSessions] = useQuery({ query: MySessionsQuery });
  const [eventsResult, refetchEvents] = useQuery({ query: MySecurityEventsQuery, variables: { first: 20 } });
  const [, revokeSession] = useMutation(RevokeSessionMutation);
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

  useEffect(() => {
    const onVisible = () => document.visibilityState === "visible" && refetch();
    document.addEventListener("visibilitychange", onVisible);
    return () => document.removeEventListener("visibilitychange", onVisible);
  }, [refetch]);

  const sessions = (sessionsResult.data?.mySessions ?? []).filter((s) => !ended.has(s.id));
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

      <section className="card">
        <h2>Security activity</h2>
        <ActivityLog events={eventsResult.data?.mySecurityEvents.edges.map((e) => e.node) ?? []} />
      </section>
      {dialog}
    </main>
  );
}
