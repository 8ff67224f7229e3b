import { createHmac, randomBytes } from "node:crypto";

/**
 * A device is recognised by a long-lived random id it keeps: the `__Host-device` cookie in
 * cookie mode, or the `deviceId` a body-mode client sends (the SDK makes one and keeps it).
 * The server stores only a keyed hash of it (HMAC-SHA256), so the table cannot be used to
 * present someone's device id, and ids are not comparable across deployments.
 */
export const DEVICE_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * How long a device is remembered after it was last seen: 400 days, the longest lifetime
 * browsers keep a cookie (RFC 6265bis caps Max-Age there), and so the `__Host-device` cookie's.
 * A device unseen for longer has lost its cookie; its row is forgotten by the purge, and a
 * sign-in from it is a new device again.
 */
export const DEVICE_MEMORY_SECONDS = 400 * 24 * 3600;

/** At most 64 characters of `[A-Za-z0-9_-]`. */
export function isDeviceId(value: unknown): value is string {
  return typeof value === "string" && DEVICE_ID_PATTERN.test(value);
}

/** A new device id: 256 random bits, base64url (43 characters). */
export function newDeviceId(): string {
  return randomBytes(32).toString("base64url");
}

/** Hashes device ids with a key derived from a server secret (see services.ts: retiring it makes every device new once). */
export class DeviceIdHasher {
  private readonly key: Buffer;

  constructor(secret: string) {
    // A key of its own, derived rather than the signing secret itself: one secret, one use.
    this.key = createHmac("sha256", secret).update("session-api/device-id/v1").digest();
  }

  hash(deviceId: string): Buffer {
    return createHmac("sha256", this.key).update(deviceId).digest();
  }
}
