import type { SessionCreatedEvent } from "@session-api/client";

/** "Chrome 124" / "Windows 10" read as "Chrome" / "Windows": a person recognises the name, not the version. */
const withoutVersion = (name: string | null | undefined) => name?.replace(/\s+[\d._]+$/, "") || null;

export function signInPlace(event: SessionCreatedEvent): string {
  const { browser, os, deviceName } = event.session;
  const where = [withoutVersion(browser), withoutVersion(os)].filter(Boolean).join(", ") || "an unknown device";
  return deviceName ? `${where} (\u201c${deviceName}\u201d)` : where;
}

/** A sign-in on another device, pushed live: the user either knows it, or says it wasn't them. */
export function NewSignInBanner({
  event,
  onNotMe,
  onDismiss,
  busy,
}: {
  event: SessionCreatedEvent;
  onNotMe(): void;
  onDismiss(): void;
  busy: boolean;
}) {
  return (
    <div className="banner" role="alert" data-testid="new-sign-in" data-session-id={event.session.id}>
      <span>
        New sign-in on <strong>{signInPlace(event)}</strong>
        {event.newDevice ? " \u2014 a device not seen before" : ""}
        {event.session.ipAddress ? ` from ${event.session.ipAddress}` : ""}.
      </span>
      <span className="actions">
        <button type="button" className="danger" onClick={onNotMe} disabled={busy} data-testid="not-me">
          This wasn&rsquo;t me
        </button>
        <button type="button" className="secondary" onClick={onDismiss} data-testid="dismiss-new-sign-in">
          It was me
        </button>
      </span>
    </div>
  );
}
