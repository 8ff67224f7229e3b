import type { MySecurityEventsQuery } from "../gql/graphql";
import { formatTime } from "../lib/time";

type SecurityEvent = MySecurityEventsQuery["mySecurityEvents"]["edges"][number]["node"];

const LABELS: Record<string, string> = {
  REGISTER: "Account created",
  LOGIN: "Signed in",
  LOGIN_FAILED: "Failed sign-in",
  LOGOUT: "Signed out",
  SESSION_REVOKED: "Session ended",
  REFRESH_TOKEN_REUSE: "Token reuse detected",
  REAUTHENTICATED: "Password confirmed",
  PASSWORD_CHANGED: "Password changed",
  EMAIL_CHANGED: "Email changed",
  ACCOUNT_LOCKED: "Account locked by support",
  ACCOUNT_UNLOCKED: "Account unlocked by support",
  ROLE_CHANGED: "Role changed",
};

function summary(event: SecurityEvent): string {
  const label =
    event.type === "LOGIN" && event.details.newDevice === true ? "Signed in on a new device" : (LABELS[event.type] ?? event.type);
  const reason = typeof event.details.reason === "string" ? event.details.reason : null;
  const count = event.sessionIds?.length ?? (typeof event.details.sessionCount === "number" ? event.details.sessionCount : 0);
  return [label, reason && `(${reason})`, count > 1 && `\u2014 ${count} sessions`].filter(Boolean).join(" ");
}

/** The device's name when it was given one, then its browser and OS. */
function deviceOf(event: SecurityEvent): string {
  const parsed = [event.browser, event.os].filter(Boolean).join(" on ");
  if (event.deviceName) return parsed ? `${event.deviceName} (${parsed})` : event.deviceName;
  return parsed || "\u2014";
}

/** The security activity log, newest first. */
export function ActivityLog({ events }: { events: SecurityEvent[] }) {
  if (events.length === 0) return <p className="hint">No activity yet.</p>;
  return (
    <table className="activity" data-testid="activity-log">
      <thead>
        <tr>
          <th>What</th>
          <th>When</th>
          <th>Device</th>
          <th>IP</th>
        </tr>
      </thead>
      <tbody>
        {events.map((e) => (
          <tr key={e.id} data-type={e.type}>
            <td>{summary(e)}</td>
            <td>{formatTime(e.occurredAt)}</td>
            <td data-testid="activity-device">{deviceOf(e)}</td>
            <td>{e.ipAddress ?? "\u2014"}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
