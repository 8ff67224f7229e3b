import { type Answer, gql, hasData } from "./support/http";
import { DRILL_PASSWORD, OPERATIONS, uniqueEmail } from "./support/load";
import type { DrillFigures } from "./support/outage";

const REVOKE_SESSION = "mutation ($id: ID!) { revokeSession(id: $id) }";

export interface StaleWindowOptions {
  /** The instance the revocation is made on. */
  revokerUrl: string;
  /** The instance under load that must stop answering for the session (the same one, or another). */
  observerUrl: string;
  trials: number;
  /** Requests in flight at once on the observer, all with the session being revoked. */
  concurrency?: number;
  /** How long the observer keeps being asked after the revocation has answered. */
  tailMs?: number;
  label?: string;
}

type Credentials = { accessToken: string; refreshToken: string };

function sessionOf(accessToken: string): string {
  return JSON.parse(Buffer.from(accessToken.split(".")[1], "base64url").toString()).sid as string;
}

/**
 * The stale window of a revocation: a phone's session is revoked on one instance while
 * another (or the same) instance is answering a stream of requests with the phone's token,
 * its session cached. An answer with data to a request sent after revokeSession returned is
 * stale. The trials count them, and the longest gap between the revocation's answer and a
 * stale request.
 */
export async function staleWindowTrials(options: StaleWindowOptions): Promise<DrillFigures & { maxStaleMs: number | null }> {
  const concurrency = options.concurrency ?? 4;
  const tailMs = options.tailMs ?? 200;
  let requests = 0;
  let stale = 0;
  let maxStaleMs: number | null = null;
  const violations: string[] = [];
  for (let trial = 0; trial < options.trials; trial++) {
    const email = uniqueEmail();
    const laptop = (await gql(options.revokerUrl, OPERATIONS.register, { e: email, p: DRILL_PASSWORD })).json?.data as {
      register: Credentials;
    };
    const phone = (await gql(options.revokerUrl, OPERATIONS.login, { e: email, p: DRILL_PASSWORD })).json?.data as {
      login: Credentials;
    };
    const token = phone.login.accessToken;
    const warm = await gql(options.observerUrl, OPERATIONS.me, undefined, { token });
    if (!hasData(warm)) throw new Error(`stale-window drill: the observer refused a live session (${warm.body.slice(0, 200)})`);

    let returnedAt = Infinity;
    const answers: Answer[] = [];
    const loops = Array.from({ length: concurrency }, async () => {
      while (Date.now() < returnedAt + tailMs) answers.push(await gql(options.observerUrl, OPERATIONS.me, undefined, { token }));
    });
    await new Promise((r) => setTimeout(r, 20 + (trial % 5) * 10));
    const revoked = await gql(
      options.revokerUrl,
      REVOKE_SESSION,
      { id: sessionOf(token) },
      { token: laptop.register.accessToken },
    );
    returnedAt = revoked.answeredAt;
    if ((revoked.json?.data as { revokeSession?: boolean } | undefined)?.revokeSession !== true) {
      throw new Error(`stale-window drill: revokeSession failed (${revoked.body.slice(0, 200)})`);
    }
    await Promise.all(loops);
    requests += answers.length;
    for (const answer of answers) {
      if (answer.sentAt < returnedAt || !hasData(answer)) continue;
      stale++;
      maxStaleMs = Math.max(maxStaleMs ?? 0, answer.sentAt - returnedAt);
      if (violations.length < 10)
        violations.push(`trial ${trial}: answered with data ${answer.sentAt - returnedAt} ms after the revocation returned`);
    }
  }
  return {
    drill: options.label ?? "stale window",
    outageMs: null,
    requests,
    refused: null,
    stale,
    recoverMs: null,
    slowestMs: null,
    violations,
    maxStaleMs,
    notes: `${options.trials} trials, ${concurrency} requests in flight${maxStaleMs !== null ? `; longest stale gap ${maxStaleMs} ms` : ""}`,
  };
}
