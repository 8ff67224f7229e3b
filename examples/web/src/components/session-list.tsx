import { useState } from "react";
import type { MySessionsQuery } from "../gql/graphql";
import { timeAgo } from "../lib/time";

export type SessionRow = MySessionsQuery["mySessions"][number];

const deviceLabel = (s: SessionRow) => s.deviceName || [s.browser, s.os].filter(Boolean).join(" on ") || "Unknown device";

/**
 * The live list of this user's sessions; this device first and marked. Ending another
 * device's session asks for confirmation first: the person on it is signed out at once.
 */
export function SessionList({
  sessions,
  onRevoke,
  busyId,
}: {
  sessions: SessionRow[];
  onRevoke(id: string): void;
  busyId: string | null;
}) {
  const [confirming, setConfirming] = useState<string | null>(null);
  return (
    <ul className="sessions" data-testid="session-list">
      {sessions.map((s) => (
        <li
          key={s.id}
          className={s.current ? "current" : undefined}
          data-testid="session-row"
          data-session-id={s.id}
          data-current={s.current}
        >
          <div className="device">
            <strong>{deviceLabel(s)}</strong>
            {s.current && <span className="badge">This device</span>}
            {!s.current && s.newDevice && <span className="badge new">New device</span>}
          </div>
          <dl>
            <div>
              <dt>Browser</dt>
              <dd>{s.browser ?? "unknown"}</dd>
            </div>
            <div>
              <dt>OS</dt>
              <dd>{s.os ?? "unknown"}</dd>
            </div>
            <div>
              <dt>IP</dt>
              <dd>{s.ipAddress ?? "unknown"}</dd>
            </div>
            <div>
              <dt>Last active</dt>
              <dd title={s.lastActiveAt}>{timeAgo(s.lastActiveAt)}</dd>
            </div>
          </dl>
          {!s.current && confirming !== s.id && (
            <button
              type="button"
              className="secondary"
              onClick={() => setConfirming(s.id)}
              disabled={busyId === s.id}
              data-testid="revoke"
            >
              Sign out this device
            </button>
          )}
          {!s.current && confirming === s.id && (
            <fieldset className="confirm" aria-label="Confirm sign-out">
              <span>Sign out {deviceLabel(s)}? Whoever uses it is signed out at once.</span>
              <button
                type="button"
                className="danger"
                onClick={() => {
                  setConfirming(null);
                  onRevoke(s.id);
                }}
                data-testid="confirm-revoke"
              >
                Sign out
              </button>
              <button type="button" className="secondary" onClick={() => setConfirming(null)} data-testid="cancel-revoke">
                Cancel
              </button>
            </fieldset>
          )}
        </li>
      ))}
    </ul>
  );
}
