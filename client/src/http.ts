import { type GraphQLErrorLike, SessionClientError } from "./errors.js";

/** The header that asks the API for browser cookie mode (the refresh token only in its HttpOnly cookie). */
export const TRANSPORT_HEADER = "x-auth-transport";

export interface GraphQLAnswer<TData> {
  status: number;
  data?: TData | null;
  errors?: GraphQLErrorLike[];
  retryAfter: string | null;
}

export interface PostOptions {
  /** Sent as `Authorization: Bearer`. */
  token?: string | null;
  /** Cookie mode: send and accept the refresh cookie, and say so in TRANSPORT_HEADER. */
  cookie?: boolean;
}

/**
 * POSTs one GraphQL operation as JSON and returns the server's answer, errors included. Throws
 * only when no GraphQL answer arrived: `NETWORK_ERROR`, or `SERVICE_UNAVAILABLE` for a gateway's
 * 502/503/504 that is not JSON.
 */
export async function postGraphQL<TData>(
  fetchImpl: typeof fetch,
  url: string,
  query: string,
  variables: Record<string, unknown> | undefined,
  options: PostOptions = {},
): Promise<GraphQLAnswer<TData>> {
  const headers: Record<string, string> = {
    "content-type": "application/json",
    accept: "application/graphql-response+json, application/json",
  };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.cookie) headers[TRANSPORT_HEADER] = "cookie";
  let response: Response;
  try {
    response = await fetchImpl(url, {
      method: "POST",
      headers,
      body: JSON.stringify(variables ? { query, variables } : { query }),
      // The refresh cookie travels only with the requests that need it.
      credentials: options.cookie ? "include" : "omit",
    });
  } catch (cause) {
    throw new SessionClientError("NETWORK_ERROR", "Could not reach the server.", { cause });
  }
  let body: { data?: TData | null; errors?: GraphQLErrorLike[] };
  try {
    body = (await response.json()) as typeof body;
  } catch (cause) {
    const unavailable = response.status === 502 || response.status === 503 || response.status === 504;
    throw new SessionClientError(
      unavailable ? "SERVICE_UNAVAILABLE" : "NETWORK_ERROR",
      `The server answered HTTP ${response.status} without a GraphQL response.`,
      { status: response.status, cause },
    );
  }
  if (body === null || typeof body !== "object" || (!("data" in body) && !Array.isArray(body.errors))) {
    throw new SessionClientError("NETWORK_ERROR", `The server answered HTTP ${response.status} without a GraphQL response.`, {
      status: response.status,
    });
  }
  return { status: response.status, data: body.data, errors: body.errors, retryAfter: response.headers.get("retry-after") };
}

/** The answer's data, or its errors as a SessionClientError. */
export function dataOrThrow<TData>(answer: GraphQLAnswer<TData>): TData {
  if (answer.errors?.length || answer.data == null) {
    throw SessionClientError.fromErrors(answer.errors ?? [], answer.status, answer.retryAfter);
  }
  return answer.data;
}
