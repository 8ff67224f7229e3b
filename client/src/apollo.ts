import { type ApolloClient, ApolloLink } from "@apollo/client";
import { Observable, type Subscription } from "rxjs";
import type { GraphQLErrorLike } from "./errors.js";
import type { SessionClient } from "./session-client.js";
import { onUserChange } from "./user-change.js";

/** GraphQL errors of a result, or of a network error whose body is a GraphQL response (a 401 sent as application/json). */
function errorsOf(resultOrError: unknown): readonly GraphQLErrorLike[] | undefined {
  const value = resultOrError as { errors?: unknown; bodyText?: unknown } | null;
  if (Array.isArray(value?.errors)) return value.errors as GraphQLErrorLike[];
  if (typeof value?.bodyText === "string") {
    try {
      const body = JSON.parse(value.bodyText) as { errors?: unknown };
      if (Array.isArray(body.errors)) return body.errors as GraphQLErrorLike[];
    } catch {
      // Not a GraphQL body.
    }
  }
  return undefined;
}

/**
 * The session link for Apollo Client: adds `Authorization: Bearer <token>` from
 * `auth.getAccessToken()` (refreshed ahead of expiry), and when the server refuses the token
 * (TOKEN_EXPIRED, TOKEN_INVALID) refreshes and sends the operation again, once. An answer
 * saying the session is over signs the client out. On sign-out (or when another user signs
 * in) it empties the cache of every ApolloClient it served with `clearStore()`, which does not
 * refetch the active queries. Put it before the terminating link:
 * `link: ApolloLink.from([sessionLink(auth), new HttpLink({ uri })])`.
 */
export function sessionLink(auth: SessionClient): ApolloLink {
  const clients = new Set<ApolloClient>();
  onUserChange(auth, () => {
    for (const client of clients) void client.clearStore().catch(() => undefined);
  });

  return new ApolloLink((operation, forward) => {
    clients.add(operation.client);
    return new Observable<ApolloLink.Result>((observer) => {
      let subscription: Subscription | undefined;
      let closed = false;

      const attempt = async (retried: boolean) => {
        const token = await auth.getAccessToken().catch(() => null);
        if (closed) return;
        operation.setContext(({ headers }: { headers?: Record<string, string> }) => {
          const next = { ...headers };
          if (token) next.authorization = `Bearer ${token}`;
          else delete next.authorization;
          return { headers: next };
        });
        // A refused token: hold the answer back until it is known whether to send again.
        const settle = (outcome: { result: ApolloLink.Result } | { error: unknown }) => {
          const errors = errorsOf("result" in outcome ? outcome.result : outcome.error);
          const decision =
            errors?.length && auth.state.sessionId ? auth.handleErrors(errors, { token, retried }) : Promise.resolve("none");
          void decision.then((next) => {
            if (closed) return;
            if (next === "retry" && !retried) return void attempt(true);
            if ("result" in outcome) {
              observer.next(outcome.result);
              observer.complete();
            } else {
              observer.error(outcome.error);
            }
          });
        };
        let last: ApolloLink.Result | undefined;
        subscription = forward(operation).subscribe({
          next: (result) => {
            if (errorsOf(result)?.length) last = result;
            else observer.next(result);
          },
          error: (error: unknown) => settle({ error }),
          complete: () => {
            if (last) settle({ result: last });
            else observer.complete();
          },
        });
      };

      void attempt(false);
      return () => {
        closed = true;
        subscription?.unsubscribe();
      };
    });
  });
}
