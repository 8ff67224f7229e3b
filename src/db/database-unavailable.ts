/**
 * Whether an error means "the database cannot be reached right now", as opposed to a bug or a
 * statement the database refused. The one place this is decided: the error formatter answers
 * these with SERVICE_UNAVAILABLE (HTTP 503, Retry-After), never as an unexpected error.
 *
 * Reached through `cause`, `driverError` (TypeORM) and `originalError` (graphql-js), and any
 * `errors` of an AggregateError (a connect that tried several addresses).
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  return seen(error, 0);
}

/** Socket-level failures: the server is down, gone, unreachable or reset the connection. */
const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "EHOSTDOWN",
  "ENETUNREACH",
  "ENETDOWN",
  "ENOTFOUND",
  "EAI_AGAIN",
]);

/**
 * PostgreSQL SQLSTATEs of a server that is going away or cannot take the work now. Class 08
 * (connection exception) is matched as a class.
 */
const SQLSTATES = new Set([
  "57P01", // admin_shutdown: the server is shutting down (or our backend was terminated)
  "57P02", // crash_shutdown
  "57P03", // cannot_connect_now: starting up or in recovery
  "57P05", // idle_session_timeout
  "57014", // query_canceled: statement_timeout passed
  "25P03", // idle_in_transaction_session_timeout
  "53300", // too_many_connections
]);

/**
 * What node-postgres and its pool say, in words only (they carry no code): a connection that
 * ended, a client timeout (query_timeout, connectionTimeoutMillis), a client no longer usable.
 */
const MESSAGES = [
  /^Connection terminated/,
  /^Query read timeout$/,
  /^timeout exceeded when trying to connect$/,
  /^Client has encountered a connection error and is not queryable$/,
  /^Client was closed and is not queryable$/,
  /^Cannot use a pool after calling end on the pool$/,
];

/**
 * graphql-js replaces a thrown value that is not an `Error` of its own realm by
 * `Error("Unexpected error value: <inspected value>")`: node's own socket errors look like that
 * where code runs in another realm (a vm context, as jest runs tests), and their code is then
 * only in the text.
 */
const WRAPPED = /^Unexpected error value: \{.*\bcode: "(E[A-Z]+)"/s;

const isUnavailableCode = (code: string) => NETWORK_CODES.has(code) || SQLSTATES.has(code) || /^08[0-9A-Z]{3}$/.test(code);

function seen(error: unknown, depth: number): boolean {
  if (depth > 5 || error === null || typeof error !== "object") return false;
  const e = error as {
    code?: unknown;
    message?: unknown;
    cause?: unknown;
    driverError?: unknown;
    originalError?: unknown;
    errors?: unknown;
  };
  if (typeof e.code === "string" && isUnavailableCode(e.code)) return true;
  // TypeORM releases a transaction's connection by itself when the connection fails; the
  // transaction's next statement then meets this instead of the connection's own error.
  const name = (error as { name?: unknown }).name;
  if (name === "QueryRunnerAlreadyReleasedError" || name === "QueryRunnerProviderAlreadyReleasedError") return true;
  if (typeof e.message === "string") {
    if (MESSAGES.some((m) => m.test(e.message as string))) return true;
    const wrapped = WRAPPED.exec(e.message);
    if (wrapped && NETWORK_CODES.has(wrapped[1])) return true;
  }
  if (Array.isArray(e.errors) && e.errors.some((inner) => seen(inner, depth + 1))) return true;
  return [e.cause, e.driverError, e.originalError].some((inner) => inner !== error && seen(inner, depth + 1));
}
