/**
 * One GraphQL call over real HTTP, as the drills and the fuzzer see it: the status, the
 * headers, the raw body and, when the body is JSON, its errors' codes. A call never hangs the
 * drill: past `timeoutMs` it is recorded with status 0 ("no answer").
 */
export interface Answer {
  status: number;
  headers: Headers;
  body: string;
  json: { data?: unknown; errors?: { message?: unknown; extensions?: { code?: unknown } & Record<string, unknown> }[] } | null;
  /** When the call was sent and when its whole body had arrived (Date.now()). */
  sentAt: number;
  answeredAt: number;
}

export const NO_ANSWER = 0;

export interface CallOptions {
  token?: string;
  headers?: Record<string, string>;
  method?: string;
  timeoutMs?: number;
}

export async function call(url: string, body: string | undefined, options: CallOptions = {}): Promise<Answer> {
  const sentAt = Date.now();
  try {
    const response = await fetch(url, {
      method: options.method ?? "POST",
      headers: {
        ...(body !== undefined ? { "content-type": "application/json" } : {}),
        ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
        ...options.headers,
      },
      body,
      signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
    });
    const text = await response.text();
    let json: Answer["json"] = null;
    try {
      const parsed: unknown = JSON.parse(text);
      if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) json = parsed as Answer["json"];
    } catch {
      json = null;
    }
    return { status: response.status, headers: response.headers, body: text, json, sentAt, answeredAt: Date.now() };
  } catch {
    return { status: NO_ANSWER, headers: new Headers(), body: "", json: null, sentAt, answeredAt: Date.now() };
  }
}

/** `{ query, variables }` as a JSON body. */
export function gql(url: string, query: string, variables?: Record<string, unknown>, options?: CallOptions): Promise<Answer> {
  return call(url, JSON.stringify({ query, variables }), options);
}

export function codes(answer: Answer): string[] {
  return (answer.json?.errors ?? []).map((e) => String(e?.extensions?.code));
}

/** Whether the answer carries data (a non-null `data` with at least one non-null field). */
export function hasData(answer: Answer): boolean {
  const data = answer.json?.data;
  return !!data && typeof data === "object" && Object.values(data).some((v) => v !== null);
}

/** The refusal a client may retry: 503 SERVICE_UNAVAILABLE, a Retry-After, and no data. */
export function isRefusal(answer: Answer): boolean {
  const found = codes(answer);
  return (
    answer.status === 503 &&
    found.length > 0 &&
    found.every((c) => c === "SERVICE_UNAVAILABLE") &&
    /^\d+$/.test(answer.headers.get("retry-after") ?? "") &&
    !hasData(answer)
  );
}
