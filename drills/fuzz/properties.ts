import { CloseCode } from "../../src/errors/close-codes";
import { ErrorCode } from "../../src/errors/error-codes";
import { MARKER } from "./corpus";

/**
 * What every answer must be, whatever was sent: JSON whose errors carry a code from the
 * catalog (src/errors/error-codes.ts) at the status the catalog gives it, or data; never a 500,
 * a stack trace or the secret the fuzzer planted; over WebSocket, only close codes from the
 * close-code catalog (src/errors/close-codes.ts), never 4500 or 1011.
 */
export interface HttpAnswer {
  status: number;
  contentType: string;
  body: string;
}

const CATALOG = new Set(Object.keys(ErrorCode));
const CLOSE_CODES = new Set<number>(Object.values(CloseCode));
const FORBIDDEN_CLOSE_CODES = new Set([CloseCode.InternalServerError, 1011]);
const JSON_TYPE = /^application\/(graphql-response\+)?json\b/i;
/** A file position ("(/x/y.ts:12:5)"), a stack frame line, or a stack-trace extension. */
const STACK = /\([^()\s]*:\d+:\d+\)|\n\s+at \S|"stacktrace"|node_modules/;

function leaks(text: string): string[] {
  const problems: string[] = [];
  if (text.includes(MARKER)) problems.push("echoes the planted secret");
  if (STACK.test(text)) problems.push("carries a stack trace or a file path");
  return problems;
}

/** The statuses an answer with these codes may have: each code's, from the catalog; 200 once it ran. */
function allowedStatuses(codes: string[], hasData: boolean): Set<number> {
  const allowed = new Set<number>(hasData ? [200] : []);
  for (const code of codes) {
    if (!CATALOG.has(code)) continue;
    const entry: { status: number; statuses?: readonly number[] } = ErrorCode[code as ErrorCode];
    for (const status of entry.statuses ?? [entry.status]) allowed.add(status);
  }
  return allowed;
}

/** Problems with one GraphQL-over-HTTP answer (or a refused upgrade); empty when it is right. */
export function checkHttpAnswer(answer: HttpAnswer, options: { emptyAllowed?: boolean } = {}): string[] {
  const problems = leaks(answer.body);
  if (answer.status >= 500 && answer.status !== 503) problems.push(`status ${answer.status}`);
  if (options.emptyAllowed && answer.body === "" && answer.status === 204) return problems;
  if (!JSON_TYPE.test(answer.contentType)) problems.push(`content-type "${answer.contentType}", not JSON`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(answer.body);
  } catch {
    return [...problems, "body is not JSON"];
  }
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) return [...problems, "body is not a JSON object"];
  const { data, errors } = parsed as { data?: unknown; errors?: unknown };
  // A `data` entry, even null, means the operation ran: GraphQL-over-HTTP answers it 200.
  const hasData = data !== undefined;
  if (errors === undefined) {
    if (data === undefined || data === null) problems.push("neither data nor errors");
    else if (answer.status !== 200) problems.push(`data at status ${answer.status}`);
    return problems;
  }
  if (!Array.isArray(errors) || errors.length === 0) return [...problems, "errors is not a non-empty list"];
  const codes = errors.map((e: { extensions?: { code?: unknown } } | null) => String(e?.extensions?.code));
  for (const code of codes) {
    if (!CATALOG.has(code)) problems.push(`code ${code} is not in the catalog`);
    if (code === "INTERNAL_SERVER_ERROR") problems.push("INTERNAL_SERVER_ERROR");
  }
  const allowed = allowedStatuses(codes, hasData);
  // With plain application/json, GraphQL-over-HTTP answers a well-formed request 200 whatever
  // its errors (src/http/response-status.ts).
  if (/^application\/json/i.test(answer.contentType)) allowed.add(200);
  if (!allowed.has(answer.status)) problems.push(`status ${answer.status} for ${codes.join(", ")}`);
  return problems;
}

export interface WsOutcome {
  /** Set when the upgrade itself was refused with an HTTP answer. */
  refused?: HttpAnswer;
  messages: string[];
  /** The server's close, if it closed the socket within the case's time. */
  close?: { code: number; reason: string };
}

const SERVER_MESSAGES = new Set(["connection_ack", "next", "error", "complete", "ping", "pong"]);

/** Problems with one WebSocket conversation; empty when it is right. */
export function checkWsOutcome(outcome: WsOutcome): string[] {
  if (outcome.refused) return checkHttpAnswer(outcome.refused).map((p) => `refused upgrade: ${p}`);
  const problems: string[] = [];
  for (const message of outcome.messages) {
    problems.push(...leaks(message));
    let parsed: { type?: unknown; payload?: unknown };
    try {
      parsed = JSON.parse(message);
    } catch {
      problems.push("a message that is not JSON");
      continue;
    }
    if (!SERVER_MESSAGES.has(String(parsed.type))) problems.push(`message type ${String(parsed.type)}`);
    const errors = parsed.type === "error" ? parsed.payload : (parsed.payload as { errors?: unknown } | undefined)?.errors;
    if (errors === undefined) continue;
    if (!Array.isArray(errors)) {
      problems.push("errors is not a list");
      continue;
    }
    for (const e of errors as { extensions?: { code?: unknown } }[]) {
      const code = String(e?.extensions?.code);
      if (!CATALOG.has(code) || code === "INTERNAL_SERVER_ERROR") problems.push(`WebSocket error code ${code}`);
    }
  }
  if (outcome.close) {
    problems.push(...leaks(outcome.close.reason).map((p) => `close reason ${p}`));
    if (!CLOSE_CODES.has(outcome.close.code)) problems.push(`close code ${outcome.close.code} is not in the close-code catalog`);
    if (FORBIDDEN_CLOSE_CODES.has(outcome.close.code))
      problems.push(`closed with ${outcome.close.code} (${outcome.close.reason})`);
  }
  return problems;
}
