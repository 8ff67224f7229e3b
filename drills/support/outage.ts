import { codes, hasData, isRefusal, NO_ANSWER } from "./http";
import type { Sample } from "./load";

/** When a drill broke the database and when it began to give it back. */
export interface OutageTimeline {
  /** The fault was injected (kill -9, black hole). */
  faultAt: number;
  /**
   * The server may take this long to see the fault (a reset travelling through the kernel);
   * from then on every answer must be a refusal.
   */
  noticeMs: number;
  /** The drill began to restore the database: nothing can succeed before this. */
  restoredAt: number;
  /** The database was ready again (default: restoredAt); recovery is timed from here. */
  backAt?: number;
}

/** What one drill measured; `npm run drills` prints one row per drill. */
export interface DrillFigures {
  drill: string;
  /** How long the fault lasted, ms. */
  outageMs: number | null;
  requests: number;
  /** Answers refused with 503 SERVICE_UNAVAILABLE and a Retry-After during the fault. */
  refused: number | null;
  /** Answers that should have been refused but carried data: let through (must be 0). */
  stale: number;
  /** From the database being back to the first answer with data, ms. */
  recoverMs: number | null;
  /** The slowest answer while the fault lasted, ms. */
  slowestMs: number | null;
  /** Anything outside the contract, described; empty when the drill held. */
  violations: string[];
  notes?: string;
}

const describe = (s: Sample) =>
  `${s.op} sent at +${s.answer.sentAt} answered ${s.answer.status} ${codes(s.answer).join(",") || "(no code)"} ` +
  `after ${s.answer.answeredAt - s.answer.sentAt} ms: ${s.answer.body.slice(0, 160)}`;

/**
 * Judges every answer of an outage drill. Whatever the moment: JSON, never a 500 or an
 * INTERNAL_SERVER_ERROR, never no answer, never slower than `boundMs`. Sent once the fault
 * was noticeable and answered before the restore began: a refusal (503, SERVICE_UNAVAILABLE,
 * Retry-After, no data). After the restore: an answer with data within `recoverWithinMs`, and
 * no refusal once the server has answered one request with data again.
 */
export function judgeOutage(
  drill: string,
  samples: readonly Sample[],
  timeline: OutageTimeline,
  limits: { boundMs: number; recoverWithinMs: number },
): DrillFigures {
  const violations: string[] = [];
  const note = (what: string, s: Sample) => violations.length < 20 && violations.push(`${what}: ${describe(s)}`);
  const from = timeline.faultAt + timeline.noticeMs;
  let refused = 0;
  let stale = 0;
  let slowest = 0;
  for (const s of samples) {
    const { answer } = s;
    const took = answer.answeredAt - answer.sentAt;
    if (answer.status === NO_ANSWER) note("no answer", s);
    else if (answer.json === null) note("not JSON", s);
    else if (answer.status >= 500 && answer.status !== 503) note("server error", s);
    else if (codes(answer).includes("INTERNAL_SERVER_ERROR")) note("INTERNAL_SERVER_ERROR", s);
    if (took > limits.boundMs) note(`slower than ${limits.boundMs} ms`, s);
    const during = answer.sentAt >= from && answer.answeredAt < timeline.restoredAt;
    if (answer.sentAt >= timeline.faultAt && answer.answeredAt < timeline.restoredAt) slowest = Math.max(slowest, took);
    if (!during) continue;
    if (isRefusal(answer)) refused++;
    else {
      if (hasData(answer)) stale++;
      note("not refused during the outage", s);
    }
  }
  const firstBack = samples
    .filter((s) => s.answer.sentAt >= timeline.restoredAt && hasData(s.answer))
    .sort((a, b) => a.answer.answeredAt - b.answer.answeredAt)[0];
  const backAt = timeline.backAt ?? timeline.restoredAt;
  const recoverMs = firstBack ? Math.max(0, firstBack.answer.answeredAt - backAt) : null;
  if (recoverMs === null || recoverMs > limits.recoverWithinMs) {
    violations.push(
      `did not recover within ${limits.recoverWithinMs} ms of the database being back (first answer with data: ${recoverMs ?? "none"})`,
    );
  } else {
    for (const s of samples)
      if (s.answer.sentAt > firstBack.answer.answeredAt && s.answer.status === 503) note("refused after recovering", s);
  }
  if (refused === 0) violations.push("no request was refused: the drill did not reach the outage");
  return {
    drill,
    outageMs: timeline.restoredAt - timeline.faultAt,
    requests: samples.length,
    refused,
    stale,
    recoverMs,
    slowestMs: slowest,
    violations,
  };
}
