import type { MySessionsQuery } from "../gql/graphql";
import { timeAgo } from "../lib/time";

export type SessionRow = MySessionsQuery["mySessions"][number];

const deviceLabel = (s: SessionRow) => s.deviceName || [s.browser, s.os].filter(Boolean).join(" on ") || "Unknown device";

/** The live list of this user's sessions; this device first and marked. */
export function SessionList({
  sessions,
  onRevoke,
  busyId,
}: {
  sessions: SessionRow[];
  onRevoke(id: string): void;
  busyId: string | null;
}) {
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
          {!s.current && (
            <button
              type="button"
              className="secondary"
              onClick={() => onRevoke(s.id)}
              disabled={busyId === s.id}
              data-testid="revoke"
            >
              Sign out this device
            </button>
          )}
        </li>
      ))}
    </ul>
  );
}
