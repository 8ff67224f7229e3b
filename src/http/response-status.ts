import type { ApolloServerPlugin, GraphQLRequestListener } from "@apollo/server";
import Negotiator from "negotiator";
import { ErrorCode } from "../errors/error-codes";
import type { GraphQLContext } from "../graphql/context";
import type { Outcome } from "../graphql/response-hints";

/**
 * HTTP statuses as the GraphQL-over-HTTP spec has them. The status says how far the request
 * got, never which error a field met:
 *
 * - `malformed`: not a well-formed GraphQL-over-HTTP request (no query, `variables` not an
 *   object, a mutation over GET, a batch, no CSRF header on GET): 4xx with either media type.
 * - `refused`: well-formed, but the operation never ran, so the response has no `data`:
 *   the document does not parse or validate, a variable cannot be coerced, the operation name
 *   matches none, or the context builder refused the credential (or could not check it). With
 *   `application/graphql-response+json` that is the code's own 4xx/5xx (the spec's MUST); with
 *   `application/json` it is 200 (the spec's SHOULD: a client cannot tell a non-200 JSON body
 *   from a proxy's, so it must read `errors` from a 200).
 * - `failed`: the operation ran but produced nothing (`data: null`: a root field such as
 *   `refreshSession` or `login` failed). With `application/graphql-response+json` that is the
 *   code's own status (401 for a replayed refresh token, 429 with Retry-After when throttled,
 *   409 for a lost refresh race, 403 for a stale session); with `application/json`, 200. The
 *   spec recommends 2xx here (a SHOULD, not a MUST); we keep the code's status because clients,
 *   proxies and rate-limit tooling act on 401/429 and the security checklist asks for them.
 * - `executed`: the response has non-null `data`: 200 with either media type, whatever the
 *   errors (the spec's MUST; `extensions.code` says what went wrong in which field).
 *
 * The answer is `application/graphql-response+json` unless the client prefers
 * `application/json`: with no Accept header, a wildcard, or a tie, the newer type wins (the
 * spec's default since 2025).
 */

export const GRAPHQL_RESPONSE_JSON = "application/graphql-response+json; charset=utf-8";
export const APPLICATION_JSON = "application/json; charset=utf-8";
export type ResponseMediaType = typeof GRAPHQL_RESPONSE_JSON | typeof APPLICATION_JSON;

const CANDIDATES = ["application/graphql-response+json", "application/json"];

// Negotiating costs microseconds, and clients send a handful of distinct Accept headers
// (each library its own), so answers are remembered; a flood of odd ones only resets this.
const negotiated = new Map<string, ResponseMediaType | null>();
const MAX_REMEMBERED = 100;

/** The media type to answer with, or null when the client accepts neither (Apollo then answers 406). */
export function responseMediaType(accept: string | undefined): ResponseMediaType | null {
  if (!accept || accept === "*/*") return GRAPHQL_RESPONSE_JSON;
  let answer = negotiated.get(accept);
  if (answer === undefined) {
    const preferred = new Negotiator({ headers: { accept } }).mediaType(CANDIDATES);
    answer = preferred === undefined ? null : preferred === CANDIDATES[0] ? GRAPHQL_RESPONSE_JSON : APPLICATION_JSON;
    if (negotiated.size >= MAX_REMEMBERED) negotiated.clear();
    negotiated.set(accept, answer);
  }
  return answer;
}

/** The status for a response of `outcome` in `mediaType`, given the status its errors asked for. */
export function responseStatus(mediaType: ResponseMediaType, outcome: Outcome, errorStatus: number): number {
  if (outcome === "executed") return 200;
  if (outcome === "failed") return mediaType === APPLICATION_JSON || errorStatus < 400 ? 200 : errorStatus;
  if (outcome === "malformed") return Math.max(errorStatus, 400);
  if (mediaType === APPLICATION_JSON) return 200;
  return Math.max(errorStatus, 400);
}

function catalogStatus(code: unknown): number {
  return typeof code === "string" && Object.hasOwn(ErrorCode, code) ? ErrorCode[code as ErrorCode].status : 200;
}

// One listener for every request: it keeps no state of its own.
const listener: GraphQLRequestListener<GraphQLContext> = {
  async willSendResponse({ response, contextValue }) {
    if (response.body.kind !== "single") {
      contextValue.response.outcome = "executed";
      return;
    }
    const { data, errors } = response.body.singleResult;
    if (data === null) {
      contextValue.response.outcome = "failed";
      contextValue.response.failedStatus = Math.max(200, ...(errors ?? []).map((e) => catalogStatus(e.extensions?.code)));
      return;
    }
    contextValue.response.outcome =
      data !== undefined ? "executed" : errors?.some((e) => e.extensions?.code === "BAD_REQUEST") ? "malformed" : "refused";
  },
};

/**
 * Records each response's outcome in its ResponseHints for the transport, which picks the
 * status (src/http/server.ts). A request that never reaches Apollo's pipeline leaves it
 * unset: the transport knows whether its context builder refused it or Apollo did.
 */
export const responseOutcomePlugin: ApolloServerPlugin<GraphQLContext> = {
  async requestDidStart() {
    return listener;
  },
};
