/** One session or account event from the API's feed (`serviceEvents`), as webhooks send it. */
export interface SessionApiEvent {
  id: string;
  type: string;
  occurredAt: string;
  userId: string;
  data: Record<string, unknown>;
  /** Store it: `events({ after: cursor })` resumes right after this event. */
  cursor: string;
}

export interface EventsOptions {
  /** A cursor from an event already handled; omitted: from the oldest event the API keeps. */
  after?: string | null;
  /** Events per request; default 100. */
  pageSize?: number;
  /** How long to wait before asking again once caught up; default 1 s. */
  pollMs?: number;
  /** Ends the iteration (also `break` out of the loop). */
  signal?: AbortSignal;
}

const QUERY = `query ($after: String, $first: Int) {
  serviceEvents(after: $after, first: $first) {
    edges { cursor node { id type occurredAt userId data } }
    pageInfo { endCursor hasNextPage }
  }
}`;

interface Page {
  edges: { cursor: string; node: Omit<SessionApiEvent, "cursor"> }[];
  pageInfo: { endCursor: string | null; hasNextPage: boolean };
}

/**
 * The feed as an endless async iterator: every committed event once, in the API's one order,
 * resuming after `after`. Needs a service key with the scope `events:read`. A failed request
 * (the API restarting, a network error) is retried after `pollMs`, from the same cursor, so
 * nothing is skipped; a refusal (a key without the scope, a bad cursor) throws.
 */
export async function* readEvents(
  graphqlUrl: string,
  serviceKey: string,
  fetchImpl: typeof fetch,
  options: EventsOptions = {},
): AsyncGenerator<SessionApiEvent, void, undefined> {
  let after = options.after ?? null;
  const first = options.pageSize ?? 100;
  const pollMs = options.pollMs ?? 1000;
  while (!options.signal?.aborted) {
    let page: Page | null = null;
    try {
      const res = await fetchImpl(graphqlUrl, {
        method: "POST",
        headers: { authorization: `ApiKey ${serviceKey}`, "content-type": "application/json" },
        body: JSON.stringify({ query: QUERY, variables: { after, first } }),
        signal: options.signal,
      });
      const body = (await res.json()) as {
        data?: { serviceEvents: Page };
        errors?: { message: string; extensions?: { code?: string } }[];
      };
      if (body.errors?.length) {
        const code = body.errors[0].extensions?.code;
        if (code === "FORBIDDEN" || code === "UNAUTHENTICATED" || code === "BAD_USER_INPUT") {
          throw new Error(`serviceEvents refused: ${code} (${body.errors[0].message})`);
        }
      } else if (body.data) {
        page = body.data.serviceEvents;
      }
    } catch (error) {
      if (options.signal?.aborted) return;
      if (error instanceof Error && error.message.startsWith("serviceEvents refused")) throw error;
    }
    if (page) {
      for (const edge of page.edges) {
        yield { ...edge.node, cursor: edge.cursor };
        after = edge.cursor;
      }
      if (page.pageInfo.hasNextPage) continue;
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, pollMs);
      const stop = () => {
        clearTimeout(timer);
        resolve();
      };
      options.signal?.addEventListener("abort", stop, { once: true });
    });
  }
}
