import { GraphQLError } from "graphql";

/** The signed-in user a request's credential names, or null for no credential. */
export interface SubgraphViewer {
  userId: string;
}

/**
 * The notes subgraph's session check: it asks the session API itself (`{ me { id } }` with the
 * request's Authorization), so a revoked session is refused here exactly when it is there.
 * (The interim verifier until `@session-api/backend` lands on main: the same answer, one
 * HTTP hop per request instead of a local cache kept exact by the revocation stream.) A
 * refusal is passed on as it came: UNAUTHENTICATED with its reason, status 401.
 */
export function sessionChecker(sessionApiUrl: string) {
  return async (authorization: string | undefined): Promise<SubgraphViewer | null> => {
    if (!authorization) return null;
    const response = await fetch(sessionApiUrl, {
      method: "POST",
      headers: { "content-type": "application/json", authorization },
      body: JSON.stringify({ query: "{ me { id } }" }),
    });
    const body = (await response.json()) as {
      data?: { me: { id: string } } | null;
      errors?: { message: string; extensions?: Record<string, unknown> }[];
    };
    if (body.data?.me) return { userId: body.data.me.id };
    const error = body.errors?.[0];
    const code = error?.extensions?.code === "UNAUTHENTICATED" ? "UNAUTHENTICATED" : "SERVICE_UNAVAILABLE";
    throw new GraphQLError(code === "UNAUTHENTICATED" ? "Not authenticated." : "Temporarily unavailable; try again shortly.", {
      extensions: {
        code,
        ...(typeof error?.extensions?.reason === "string" ? { reason: error.extensions.reason } : {}),
        http: { status: code === "UNAUTHENTICATED" ? 401 : 503 },
      },
    });
  };
}
