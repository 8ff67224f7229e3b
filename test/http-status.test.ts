import { request as httpRequest } from "node:http";
import { startTestServer, type TestServer } from "./support/test-server";
import { PASSWORD, signUp, uniqueEmail } from "./support/users";

/**
 * The status table of the README, through real HTTP: the status says how far the request
 * got. Not a well-formed request: 4xx. Refused before execution (no `data`): the code's
 * 4xx/5xx with `application/graphql-response+json` (the default), 200 with `application/json`.
 * Ran but produced nothing (`data: null`): the code's status with
 * `application/graphql-response+json`, 200 with `application/json`. Executed with data: 200.
 */
const GRAPHQL_RESPONSE_JSON = "application/graphql-response+json; charset=utf-8";
const APPLICATION_JSON = "application/json; charset=utf-8";

let server: TestServer;
beforeAll(async () => {
  // One failure locks an account, so RATE_LIMITED is one request away.
  server = await startTestServer({ LOGIN_MAX_FAILURES_PER_ACCOUNT: "1", LOGIN_MAX_FAILURES_PER_IP: "1000" });
});
afterAll(() => server.stop());

interface Sent {
  status: number;
  contentType: string | null;
  headers: Headers;
  hasData: boolean;
  codes: string[];
}

async function send(
  body: unknown,
  accept: string,
  options: { token?: string; method?: "GET" | "POST"; headers?: Record<string, string> } = {},
): Promise<Sent> {
  const get = options.method === "GET";
  const query = body as { query: string };
  const url = get ? `${server.url}?query=${encodeURIComponent(query.query)}` : server.url;
  const res = await fetch(url, {
    method: options.method ?? "POST",
    headers: {
      accept,
      ...(get ? { "apollo-require-preflight": "true" } : { "content-type": "application/json" }),
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...options.headers,
    },
    body: get ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  const json = (await res.json()) as { data?: unknown; errors?: { extensions: { code: string } }[] };
  return {
    status: res.status,
    contentType: res.headers.get("content-type"),
    headers: res.headers,
    hasData: "data" in json,
    codes: (json.errors ?? []).map((e) => e.extensions.code),
  };
}

const signedIn = () => signUp(server);
const staleSession = async () => {
  const user = await signUp(server);
  await server.sql("UPDATE sessions SET authenticated_at = now() - interval '1 day' WHERE id = $1", [user.session.id]);
  return user;
};

type Case = [
  name: string,
  code: string | null,
  make: (accept: string) => Promise<Sent>,
  statuses: { graphqlResponseJson: number; applicationJson: number },
  hasData: boolean,
];

const REFUSED = (status: number) => ({ graphqlResponseJson: status, applicationJson: 200 });
const EXECUTED = { graphqlResponseJson: 200, applicationJson: 200 };
const FAILED = (status: number) => ({ graphqlResponseJson: status, applicationJson: 200 });
const MALFORMED = (status: number) => ({ graphqlResponseJson: status, applicationJson: status });

const cases: Case[] = [
  ["a successful query: 200", null, (a) => send({ query: "{ __typename }" }, a), EXECUTED, true],
  ["a document that does not parse", "GRAPHQL_PARSE_FAILED", (a) => send({ query: "{" }, a), REFUSED(400), false],
  ["a document that does not validate", "GRAPHQL_VALIDATION_FAILED", (a) => send({ query: "{ nope }" }, a), REFUSED(400), false],
  [
    "an operation name that matches none",
    "OPERATION_RESOLUTION_FAILURE",
    (a) => send({ query: "query A { __typename }", operationName: "B" }, a),
    REFUSED(400),
    false,
  ],
  [
    "a variable that cannot be coerced",
    "BAD_USER_INPUT",
    (a) => send({ query: "query($n: Int) { mySecurityEvents(first: $n) { edges { cursor } } }", variables: { n: "x" } }, a),
    REFUSED(400),
    false,
  ],
  [
    "a token the context builder refuses",
    "UNAUTHENTICATED",
    (a) => send({ query: "{ me { id } }" }, a, { token: "not.a.token" }),
    REFUSED(401),
    false,
  ],
  [
    "an argument that fails validation",
    "BAD_USER_INPUT",
    async (a) => send({ query: `mutation { register(input: { email: "x", password: "y" }) { accessToken } }` }, a),
    FAILED(400),
    true,
  ],
  [
    "a field that needs a signed-in viewer, without a token",
    "UNAUTHENTICATED",
    (a) => send({ query: "{ me { id } }" }, a),
    FAILED(401),
    true,
  ],
  [
    "a wrong password",
    "INVALID_CREDENTIALS",
    (a) => send({ query: `mutation { login(input: { email: "${uniqueEmail()}", password: "wrong" }) { accessToken } }` }, a),
    EXECUTED,
    true,
  ],
  [
    "an email already registered",
    "EMAIL_TAKEN",
    async (a) => {
      const user = await signedIn();
      return send(
        { query: `mutation { register(input: { email: "${user.email}", password: "${PASSWORD}" }) { accessToken } }` },
        a,
      );
    },
    EXECUTED,
    true,
  ],
  [
    "ending other sessions from a stale session",
    "FORBIDDEN",
    async (a) =>
      send({ query: "mutation { logoutAllDevices(keepCurrent: true) }" }, a, { token: (await staleSession()).accessToken }),
    FAILED(403),
    true,
  ],
  [
    "a refresh token spent a moment ago",
    "REFRESH_TOKEN_ROTATED",
    async (a) => {
      const user = await signedIn();
      const refresh = { query: `mutation { refreshSession(refreshToken: "${user.refreshToken}") { accessToken } }` };
      await send(refresh, a);
      return send(refresh, a);
    },
    FAILED(409),
    true,
  ],
  ["a request without a query", "BAD_REQUEST", (a) => send({}, a), MALFORMED(400), false],
  [
    "variables that are not an object",
    "BAD_REQUEST",
    (a) => send({ query: "{ __typename }", variables: [1] }, a),
    MALFORMED(400),
    false,
  ],
  [
    "a mutation over GET",
    "BAD_REQUEST",
    (a) => send({ query: "mutation { logout }" }, a, { method: "GET" }),
    MALFORMED(405),
    false,
  ],
  ["a body that is not JSON", "BAD_REQUEST", (a) => send("{not json", a), MALFORMED(400), false],
  [
    "a body that is not JSON by its content type",
    "UNSUPPORTED_MEDIA_TYPE",
    (a) => send("query=%7B__typename%7D", a, { headers: { "content-type": "application/x-www-form-urlencoded" } }),
    MALFORMED(415),
    false,
  ],
  [
    "a body over 100 KB",
    "PAYLOAD_TOO_LARGE",
    (a) => send({ query: "{ __typename }", pad: "x".repeat(101 * 1024) }, a),
    MALFORMED(413),
    false,
  ],
];

const TRANSPORT_REFUSALS = new Set([
  "a body that is not JSON",
  "a body that is not JSON by its content type",
  "a body over 100 KB",
]);

describe("HTTP status of each outcome", () => {
  describe.each([
    ["application/graphql-response+json", "graphqlResponseJson", GRAPHQL_RESPONSE_JSON],
    ["application/json", "applicationJson", APPLICATION_JSON],
  ] as const)("with Accept: %s", (accept, column, contentType) => {
    const titled = cases.map(([name, code, make, statuses, hasData]) => ({
      title: code ? `${name}: ${code}` : name,
      name,
      code,
      make,
      statuses,
      hasData,
    }));
    it.each(titled)("$title", async ({ name, code, make, statuses, hasData }) => {
      const res = await make(accept);
      expect({ status: res.status, codes: res.codes.slice(0, 1), hasData: res.hasData }).toEqual({
        status: statuses[column],
        codes: code ? [code] : [],
        hasData,
      });
      // GraphQL responses take the negotiated type; the transport's own refusals, made before
      // Apollo sees the request, are plain JSON.
      expect(res.contentType).toBe(TRANSPORT_REFUSALS.has(name) ? APPLICATION_JSON : contentType);
      expect(res.headers.get("cache-control")).toBe("no-store");
    });
  });

  it("adds Allow: POST to a mutation over GET, and Connection: close to a body over 100 KB", async () => {
    const get = await send({ query: "mutation { logout }" }, "application/graphql-response+json", { method: "GET" });
    expect(get.headers.get("allow")).toBe("POST");
    const big = await send({ query: "{ __typename }", pad: "x".repeat(101 * 1024) }, "application/graphql-response+json");
    expect(big.headers.get("connection")).toBe("close");
  });

  it("answers RATE_LIMITED with 429 and Retry-After: the operation ran but produced nothing", async () => {
    const user = await signedIn();
    const login = (password: string) =>
      send(
        { query: `mutation { login(input: { email: "${user.email}", password: "${password}" }) { accessToken } }` },
        "application/graphql-response+json",
      );
    expect((await login("wrong password")).codes).toEqual(["INVALID_CREDENTIALS"]);
    const limited = await login(PASSWORD);
    expect({ status: limited.status, codes: limited.codes, hasData: limited.hasData }).toEqual({
      status: 429,
      codes: ["RATE_LIMITED"],
      hasData: true,
    });
    expect(limited.headers.get("retry-after")).toMatch(/^[1-9]\d*$/);
  });

  it("answers application/graphql-response+json when the client sends no Accept, a wildcard, or prefers it", async () => {
    const noAccept = await new Promise<{ status?: number; type?: string }>((resolve, reject) => {
      const req = httpRequest(server.url, { method: "POST", headers: { "content-type": "application/json" } }, (res) => {
        res.resume();
        resolve({ status: res.statusCode, type: res.headers["content-type"] });
      });
      req.on("error", reject);
      req.end(JSON.stringify({ query: "{ me { id } }" }));
    });
    expect(noAccept).toEqual({ status: 401, type: GRAPHQL_RESPONSE_JSON });
    for (const accept of [
      "*/*",
      "application/*",
      "application/json;q=0.9, application/graphql-response+json",
      "application/graphql-response+json, application/json",
    ]) {
      expect((await send({ query: "{ __typename }" }, accept)).contentType).toBe(GRAPHQL_RESPONSE_JSON);
    }
    expect(
      (await send({ query: "{ __typename }" }, "application/json, application/graphql-response+json;q=0.5")).contentType,
    ).toBe(APPLICATION_JSON);
    expect((await send({ query: "{ __typename }" }, "text/html")).status).toBe(406);
  });

  it("refuses an Accept that allows neither JSON type with 406 before the operation runs, so a mutation changes nothing", async () => {
    const email = uniqueEmail();
    const res = await send(
      { query: `mutation { register(input: { email: "${email}", password: "${PASSWORD}" }) { accessToken } }` },
      "text/html",
    );
    expect({ status: res.status, codes: res.codes, hasData: res.hasData }).toEqual({
      status: 406,
      codes: ["BAD_REQUEST"],
      hasData: false,
    });
    expect(await server.sql("SELECT id FROM users WHERE email = $1", [email])).toEqual([]);
  });

  it("varies on Accept, since the media type depends on it", async () => {
    const res = await send({ query: "{ __typename }" }, "application/json");
    expect(res.headers.get("vary")).toBe("Origin, Accept");
  });
});
