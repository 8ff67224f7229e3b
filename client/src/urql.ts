import { type Exchange, makeOperation, type Operation, type OperationResult } from "@urql/core";
import { filter, fromPromise, fromValue, makeSubject, merge, mergeMap, pipe, share, takeUntil } from "wonka";
import type { SessionClient } from "./session-client.js";
import { onUserChange } from "./user-change.js";

type Context = Operation["context"] & { sessionRetried?: boolean };

function withToken(operation: Operation, token: string | null, extra: Partial<Context> = {}): Operation {
  const fetchOptions =
    typeof operation.context.fetchOptions === "function"
      ? operation.context.fetchOptions()
      : (operation.context.fetchOptions ?? {});
  const headers = { ...(fetchOptions.headers as Record<string, string> | undefined) };
  if (token) headers.authorization = `Bearer ${token}`;
  else delete headers.authorization;
  // POST always: the API refuses a GET that carries no CSRF-preflight header.
  return makeOperation(operation.kind, operation, {
    ...operation.context,
    preferGetMethod: false,
    ...extra,
    fetchOptions: { ...fetchOptions, headers },
  });
}

/**
 * The session exchange for urql: adds `Authorization: Bearer <token>` from
 * `auth.getAccessToken()` (refreshed ahead of expiry), and when the server refuses the token
 * (TOKEN_EXPIRED, TOKEN_INVALID) refreshes and sends the operation again, once. An answer
 * saying the session is over signs the client out. Operations go as POST (the API refuses a
 * GET without a CSRF-preflight header).
 *
 * Put it before the `cacheExchange` — `[sessionExchange(auth), cacheExchange, fetchExchange]` —
 * so that it can reset the cache: after a sign-out, every query the previous user ran is
 * fetched from the network the first time it runs again (`network-only`), so no result cached
 * for that user is ever shown. (A normalized cache such as Graphcache can also serve other
 * queries from its entities: with one, create a new Client on `SIGNED_OUT`.)
 */
export function sessionExchange(auth: SessionClient): Exchange {
  return ({ forward }) => {
    // Query keys that have results cached for the user who signed out.
    const seen = new Set<number>();
    const stale = new Set<number>();
    onUserChange(auth, () => {
      for (const key of seen) stale.add(key);
      seen.clear();
    });

    async function prepare(operation: Operation): Promise<Operation> {
      const token = await auth.getAccessToken().catch(() => null);
      if (operation.kind !== "query") return withToken(operation, token);
      seen.add(operation.key);
      return withToken(operation, token, stale.delete(operation.key) ? { requestPolicy: "network-only" } : {});
    }

    return (operations$) => {
      const retries = makeSubject<Operation>();
      const shared$ = pipe(operations$, share);
      const teardowns$ = pipe(
        shared$,
        filter((operation) => operation.kind === "teardown"),
      );
      const prepared$ = pipe(
        shared$,
        filter((operation) => operation.kind !== "teardown"),
        mergeMap((operation) =>
          pipe(
            fromPromise(prepare(operation)),
            takeUntil(
              pipe(
                teardowns$,
                filter((teardown) => teardown.key === operation.key),
              ),
            ),
          ),
        ),
      );
      return pipe(
        merge([prepared$, teardowns$, retries.source]),
        forward,
        mergeMap((result: OperationResult) => {
          const context = result.operation.context as Context;
          const errors = result.error?.graphQLErrors;
          if (!errors?.length || !auth.state.sessionId) return fromValue(result);
          const sent = (result.operation.context.fetchOptions as { headers?: Record<string, string> } | undefined)?.headers
            ?.authorization;
          const decision = auth.handleErrors(errors, { token: sent?.replace(/^Bearer /, ""), retried: context.sessionRetried });
          return pipe(
            fromPromise(
              decision.then(async (next) => {
                if (next !== "retry") return result;
                const token = await auth.getAccessToken().catch(() => null);
                // The cache holds no error results, but must not answer the retry either.
                retries.next(withToken(result.operation, token, { sessionRetried: true, requestPolicy: "network-only" }));
                return null;
              }),
            ),
            filter((value): value is OperationResult => value !== null),
          );
        }),
      );
    };
  };
}
