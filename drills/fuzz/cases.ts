import type { Random } from "../support/random";
import { MARKER, OPERATIONS, type Operation, VOCABULARY } from "./corpus";

/**
 * The fuzzer's cases, each made from a seeded generator alone: the same (seed, class, index)
 * always gives the same case. Credentials appear as placeholders (`{{ACCESS}}`, `{{REFRESH}}`,
 * `{{SESSION}}`), filled in with the fuzz user's when the case is sent.
 */
export interface HttpCase {
  kind: "http";
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string | Buffer;
}

/** One frame a client sends: text (possibly not valid UTF-8) or binary. */
export type Frame = { text: string } | { binary: Buffer } | { invalidUtf8: Buffer };

export interface WsCase {
  kind: "ws";
  protocols: string[];
  frames: Frame[];
}

/** Bytes written straight to the TCP port: an HTTP upgrade request, well formed or not. */
export interface RawCase {
  kind: "raw";
  request: string;
}

export type FuzzCase = HttpCase | WsCase | RawCase;

export const ACCESS = "{{ACCESS}}";
export const REFRESH = "{{REFRESH}}";
export const SESSION = "{{SESSION}}";
/** The fuzz user's email: with its password (MARKER), a sign-in that gets past the password check. */
export const EMAIL = "{{EMAIL}}";

/**
 * Text PostgreSQL refuses (NUL; an unpaired surrogate, which has no UTF-8 form), alone and
 * inside ordinary text, so that it reaches each field past every other rule.
 */
const UNSTORABLE = ["\u0000", "\uD800", "\uDFFF", "a\uDC00b", "fuzz\u0000@example.test", "\uDBFF\u0000", "x\uD83D"];

const PRINTABLE = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 _-.:{}[]()\"'\\/$@!#,=";

/** A JSON value of a random shape, often carrying the marker. */
function jsonValue(r: Random, depth = 0): unknown {
  switch (r.int(0, depth > 3 ? 5 : 8)) {
    case 0:
      return MARKER;
    case 1:
      return r.pick([0, -1, 1.5, 2 ** 31, 2 ** 53 + 1, 1e308, -0]);
    case 2:
      return r.pick([true, false, null]);
    case 3:
      return r.string(r.int(0, 40), PRINTABLE);
    case 4:
      return r.pick(["", " ", ...UNSTORABLE, "\u{1F600}".repeat(10), "x".repeat(r.int(100, 5000)), `${MARKER}\n${MARKER}`]);
    case 5:
      return r.pick([REFRESH, ACCESS, SESSION, `Bearer ${MARKER}`]);
    case 6:
      return Array.from({ length: r.int(0, 4) }, () => jsonValue(r, depth + 1));
    default: {
      const keys = ["email", "password", "deviceName", "__proto__", "constructor", "query", r.string(r.int(1, 8), PRINTABLE)];
      return Object.fromEntries(Array.from({ length: r.int(0, 4) }, () => [r.pick(keys), jsonValue(r, depth + 1)]));
    }
  }
}

/** A value for a variable of `type`: sometimes right, mostly wrong, often the marker. */
function variableValue(r: Random, type: string): unknown {
  if (r.chance(0.5)) return jsonValue(r);
  switch (type.replace(/!$/, "")) {
    case "LoginInput":
    case "RegisterInput":
      return r.pick([
        { email: "fuzz@example.test", password: MARKER },
        { email: "fuzz@example.test", password: [MARKER] },
        { email: [MARKER], password: MARKER },
        { email: MARKER, password: { value: MARKER } },
        { email: "fuzz@example.test", password: MARKER, deviceName: MARKER.repeat(20) },
        { email: "fuzz@example.test", password: `${MARKER}${r.pick(UNSTORABLE)}`, deviceName: r.pick(UNSTORABLE) },
        { email: r.pick(UNSTORABLE), password: MARKER, deviceName: r.pick(UNSTORABLE) },
        { email: "fuzz@example.test", password: MARKER, extra: MARKER },
        { password: MARKER },
        [{ email: "fuzz@example.test", password: MARKER }],
        `{ email: "x", password: "${MARKER}" }`,
      ]);
    case "String":
      return r.pick([
        MARKER,
        REFRESH,
        ACCESS,
        `${REFRESH}x`,
        [MARKER],
        { s: MARKER },
        12,
        null,
        r.pick(UNSTORABLE),
        `${MARKER}${r.pick(UNSTORABLE)}`,
      ]);
    case "Int":
      return r.pick([0, -1, 101, 2 ** 31, 1.5, "20", MARKER, null]);
    case "Boolean":
      return r.pick([true, false, "true", 0, MARKER, null]);
    case "ID":
      return r.pick([SESSION, "not-a-uuid", MARKER, 42, "00000000-0000-0000-0000-000000000000", [SESSION], `${SESSION}\u0000`]);
    default:
      return jsonValue(r);
  }
}

function tokens(document: string): string[] {
  return document.match(/\.\.\.|"(?:[^"\\]|\\.)*"|[A-Za-z_][A-Za-z0-9_]*|-?\d+(?:\.\d+)?(?:e\d+)?|\S/g) ?? [];
}

/** A document near a valid one: tokens deleted, repeated, swapped, inserted, or nested deep. */
function mutatedDocument(r: Random, operation: Operation): string {
  let parts = tokens(operation.document);
  for (let n = r.int(1, 3); n > 0; n--) {
    const at = r.int(0, Math.max(0, parts.length - 1));
    switch (r.int(0, 6)) {
      case 0:
        parts.splice(at, 1);
        break;
      case 1:
        parts.splice(at, 0, parts[at] ?? "{");
        break;
      case 2:
        [parts[at], parts[at + 1]] = [parts[at + 1] ?? "}", parts[at] ?? "{"];
        break;
      case 3:
        parts.splice(at, 0, r.pick(VOCABULARY));
        break;
      case 4:
        parts[at] = r.string(r.int(1, 12), "abcdefghijklmnopqrstuvwxyz_");
        break;
      case 5: {
        // Aliases or nesting past the limits.
        const repeat = r.int(5, 40);
        parts = r.chance(0.5)
          ? ["{", ...Array.from({ length: repeat }, (_, i) => `a${i}: __typename`), "}"]
          : tokens(`{ __schema { types { ${"fields { type { ".repeat(repeat)} name ${"} } ".repeat(repeat)} } } }`);
        break;
      }
      default:
        parts = [...parts, ...tokens(r.pick(OPERATIONS).document)];
    }
  }
  return parts.join(" ");
}

function randomDocument(r: Random): string {
  if (r.chance(0.4)) return r.pick(OPERATIONS).document;
  if (r.chance(0.8)) return mutatedDocument(r, r.pick(OPERATIONS));
  return r.string(r.int(0, 200), `${PRINTABLE}\n\t\u00e9\u0000`);
}

const CONTENT_TYPES = [
  "application/json",
  "application/json; charset=utf-8",
  "application/graphql-response+json",
  "application/json; charset=utf-16",
  "application/graphql",
  "text/plain",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=x",
  "",
];

const ACCEPTS = [
  "application/json",
  "application/graphql-response+json",
  "multipart/mixed; deferSpec=20220824",
  "text/html",
  "*/*",
  "",
];

function withSomeHeaders(r: Random, headers: Record<string, string>): Record<string, string> {
  if (r.chance(0.2)) headers.accept = r.pick(ACCEPTS);
  if (r.chance(0.1)) headers.origin = r.pick(["https://evil.example", "null", "http://127.0.0.1:5173"]);
  if (r.chance(0.1)) headers["x-auth-transport"] = r.pick(["cookie", "body", MARKER]);
  if (r.chance(0.1)) headers.cookie = r.pick([`__Host-refresh_token=${MARKER}`, `__Host-refresh_token=${REFRESH}`, MARKER]);
  if (r.chance(0.1)) headers["apollo-require-preflight"] = "true";
  return headers;
}

function json(r: Random, headers: Record<string, string>, body: unknown): HttpCase {
  return {
    kind: "http",
    method: "POST",
    path: "/graphql",
    headers: withSomeHeaders(r, { "content-type": "application/json", ...headers }),
    body: JSON.stringify(body),
  };
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** Request bodies, methods, paths and content types, mostly not what the API expects. */
function httpBody(r: Random): HttpCase {
  const method = r.chance(0.75) ? "POST" : r.pick(["GET", "PUT", "DELETE", "PATCH", "OPTIONS"]);
  const path = r.chance(0.85)
    ? "/graphql"
    : r.pick(["/", "/graphql/", "/GRAPHQL", "/graphql?x=1", "/%zz", "/graphql/../graphql", "/nope"]);
  let body: string | Buffer | undefined;
  switch (r.int(0, 8)) {
    case 0:
      body = Buffer.from(Array.from({ length: r.int(0, 200) }, () => r.int(0, 255)));
      break;
    case 1:
      body = JSON.stringify({ query: randomDocument(r), variables: { p: MARKER } }).slice(0, r.int(0, 60));
      break;
    case 2:
      body = r.pick(["null", "1", '"{ __typename }"', "true", "[]", "[{}]", '[{"query":"{ __typename }"}]', "{}", ""]);
      break;
    case 3:
      body = JSON.stringify(
        Object.fromEntries(
          (["query", "variables", "operationName", "extensions"] as const)
            .filter(() => r.chance(0.7))
            .map((key) => [key, key === "query" && r.chance(0.5) ? randomDocument(r) : jsonValue(r)]),
        ),
      );
      break;
    case 4: {
      const depth = r.int(100, 20_000);
      body = r.chance(0.5) ? "[".repeat(depth) + "]".repeat(depth) : `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`;
      break;
    }
    case 5:
      body = JSON.stringify({
        query: "{ __typename }",
        variables: { pad: "x".repeat(r.chance(0.5) ? r.int(1000, 90_000) : r.int(100_001, 150_000)) },
      });
      break;
    case 6:
      body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify({ query: "{ __typename }" }))]);
      break;
    case 7:
      body = Buffer.from(`{"query":"{ __typename }","variables":{"p":"${MARKER}\xff\xfe"}}`, "latin1");
      break;
    default:
      body = JSON.stringify({ query: randomDocument(r), variables: jsonValue(r) });
  }
  const headers = withSomeHeaders(r, r.chance(0.9) ? { "content-type": r.pick(CONTENT_TYPES) } : {});
  if (!headers["content-type"]) delete headers["content-type"];
  if (method === "GET") {
    const search = new URLSearchParams({ query: randomDocument(r), variables: JSON.stringify({ p: MARKER }) });
    if (r.chance(0.5))
      search.set("extensions", r.pick(['{"persistedQuery":{"version":1,"sha256Hash":"abc"}}', "not json", "[]"]));
    return { kind: "http", method, path: `${path}${path.includes("?") ? "&" : "?"}${search}`, headers };
  }
  return { kind: "http", method, path, headers, body: method === "OPTIONS" ? undefined : body };
}

/** Documents near the valid ones, signed in or not. */
function graphqlDocument(r: Random): HttpCase {
  const operation = r.pick(OPERATIONS);
  const document = r.chance(0.8) ? mutatedDocument(r, operation) : randomDocument(r);
  const variables = Object.fromEntries(Object.entries(operation.variables).map(([name, type]) => [name, variableValue(r, type)]));
  const body: Record<string, unknown> = { query: document, variables };
  if (r.chance(0.2)) body.operationName = r.pick(["A", "B", "Q", "nope", null, 1, ["A"], MARKER]);
  return json(r, r.chance(0.6) ? bearer(ACCESS) : {}, body);
}

/** Valid operations with variables of every wrong shape, secrets inside. */
function variables(r: Random): HttpCase {
  const operation = r.pick(OPERATIONS.filter((o) => Object.keys(o.variables).length > 0));
  const values: Record<string, unknown> = {};
  for (const [name, type] of Object.entries(operation.variables)) if (r.chance(0.9)) values[name] = variableValue(r, type);
  if (r.chance(0.1)) values.extra = MARKER;
  const body: Record<string, unknown> = {
    query: operation.document,
    variables: r.chance(0.9) ? values : r.pick([[values], MARKER, 1, null]),
  };
  return json(r, r.chance(0.6) ? bearer(ACCESS) : {}, body);
}

/** Authorization headers of every wrong shape, with secrets in them. */
function authorization(r: Random): HttpCase {
  const jwtLike = (payload: unknown, alg = "HS256") =>
    [{ alg, typ: "JWT" }, payload].map((p) => Buffer.from(JSON.stringify(p)).toString("base64url")).join(".") +
    "." +
    r.string(43, "abcdefABCDEF0123456789_-");
  const value = r.pick([
    `Bearer ${MARKER}`,
    `bearer ${ACCESS}`,
    `Bearer  ${ACCESS}`,
    `Bearer ${ACCESS} ${MARKER}`,
    `Basic ${Buffer.from(`fuzz@example.test:${MARKER}`).toString("base64")}`,
    `Bearer ${jwtLike({ sub: MARKER, sid: MARKER, exp: 9999999999 })}`,
    `Bearer ${jwtLike({ sub: "x" }, "none")}`,
    `Bearer ${ACCESS.slice(0, 5)}`,
    `Bearer ${REFRESH}`,
    `Bearer ${"A".repeat(r.int(4000, 9000))}`,
    `Bearer ${MARKER}\u00e9`,
    MARKER,
    "Bearer",
    "",
    `Token ${ACCESS}`,
  ]);
  const operation = r.pick(OPERATIONS.filter((o) => !o.document.startsWith("subscription")));
  const vars = Object.fromEntries(Object.entries(operation.variables).map(([name, type]) => [name, variableValue(r, type)]));
  return json(r, { authorization: value }, { query: operation.document, variables: vars });
}

/** Automatic persisted queries: refused, whatever the shape. */
function persistedQuery(r: Random): HttpCase {
  const persisted = r.pick([
    { version: 1, sha256Hash: r.string(64, "0123456789abcdef") },
    { version: 2, sha256Hash: "abc" },
    { version: 1 },
    MARKER,
    [],
    { version: "1", sha256Hash: MARKER },
  ]);
  const body: Record<string, unknown> = { extensions: { persistedQuery: persisted } };
  if (r.chance(0.5)) body.query = r.pick(OPERATIONS).document;
  if (r.chance(0.3)) body.variables = { p: MARKER };
  return json(r, r.chance(0.3) ? bearer(ACCESS) : {}, body);
}

/** graphql-transport-ws frames: in order, out of order, server-only, malformed, oversized. */
function websocket(r: Random): WsCase {
  const protocols = r.chance(0.85)
    ? ["graphql-transport-ws"]
    : r.pick([[], ["graphql-ws"], [MARKER], ["graphql-transport-ws", "graphql-ws"]]);
  const init = () =>
    JSON.stringify({
      type: "connection_init",
      payload: r.pick([
        { authorization: `Bearer ${ACCESS}` },
        { Authorization: `Bearer ${ACCESS}` },
        { authorization: `Bearer ${MARKER}` },
        { authorization: [MARKER] },
        { authorization: `Bearer ${ACCESS}`, AUTHORIZATION: `Bearer ${MARKER}` },
        MARKER,
        null,
        {},
      ]),
    });
  const subscribe = () =>
    JSON.stringify({
      // Not the marker: graphql-ws repeats the id in every message about the subscription.
      id: r.pick(["1", "1", "2", "", "x".repeat(300)]),
      type: "subscribe",
      payload: r.chance(0.8)
        ? (() => {
            const operation = r.pick(OPERATIONS);
            return {
              query: r.chance(0.6) ? operation.document : mutatedDocument(r, operation),
              variables: Object.fromEntries(
                Object.entries(operation.variables).map(([name, type]) => [name, variableValue(r, type)]),
              ),
            };
          })()
        : jsonValue(r),
    });
  const frame = (): Frame => {
    switch (r.int(0, 11)) {
      case 0:
      case 1:
        return { text: init() };
      case 2:
      case 3:
        return { text: subscribe() };
      case 4:
        // graphql-ws answers a ping with a pong carrying the same payload, to the sender only:
        // the client's own bytes coming back to it, so no secret is planted there.
        return {
          text: JSON.stringify({
            type: r.pick(["ping", "pong"]),
            payload: JSON.parse(JSON.stringify(jsonValue(r) ?? null).replaceAll(MARKER, "x")),
          }),
        };
      case 5:
        return { text: JSON.stringify({ id: r.pick(["1", "2"]), type: "complete" }) };
      case 6:
        return { text: JSON.stringify({ type: r.pick(["connection_ack", "next", "error"]), id: "1", payload: jsonValue(r) }) };
      case 7:
        return { text: r.pick(["", "{", "null", "[]", "1", '{"type":"nope"}', JSON.stringify(jsonValue(r)), MARKER]) };
      case 8:
        return { binary: Buffer.from(r.chance(0.5) ? init() : MARKER) };
      case 9:
        return { invalidUtf8: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]) };
      case 10:
        return { text: JSON.stringify({ type: "connection_init", payload: { pad: "x".repeat(r.int(90_000, 120_000)) } }) };
      default:
        return { text: subscribe() };
    }
  };
  const frames: Frame[] = [];
  if (r.chance(0.7)) frames.push({ text: init() });
  for (let n = r.int(1, 4); n > 0; n--) frames.push(frame());
  return { kind: "ws", protocols, frames };
}

/** HTTP upgrade requests that ws refuses, and a few it accepts. */
function upgrade(r: Random): RawCase {
  const method = r.chance(0.7) ? "GET" : r.pick(["POST", "PUT", "OPTIONS"]);
  const path = r.chance(0.8) ? "/graphql" : r.pick(["/", "/other", "/graphql/x"]);
  const headers: string[] = ["Host: 127.0.0.1"];
  if (r.chance(0.9)) headers.push(`Upgrade: ${r.pick(["websocket", "WebSocket", "h2c", MARKER])}`);
  if (r.chance(0.9)) headers.push(`Connection: ${r.pick(["Upgrade", "upgrade, keep-alive", "close"])}`);
  if (r.chance(0.7)) headers.push(`Sec-WebSocket-Key: ${r.pick(["dGhlIHNhbXBsZSBub25jZQ==", "short", MARKER, ""])}`);
  if (r.chance(0.8)) headers.push(`Sec-WebSocket-Version: ${r.pick(["13", "8", "99", "x"])}`);
  if (r.chance(0.5)) headers.push(`Sec-WebSocket-Protocol: ${r.pick(["graphql-transport-ws", "graphql-ws", ",,,", MARKER])}`);
  if (r.chance(0.2)) headers.push(`Sec-WebSocket-Extensions: ${r.pick(["permessage-deflate", 'x; y="', MARKER])}`);
  if (r.chance(0.2)) headers.push(`Authorization: Bearer ${MARKER}`);
  const body = method === "POST" ? `{"query":"{ __typename }","p":"${MARKER}"}` : "";
  if (body) headers.push("Content-Type: application/json", `Content-Length: ${Buffer.byteLength(body)}`);
  return { kind: "raw", request: `${method} ${path} HTTP/1.1\r\n${headers.join("\r\n")}\r\n\r\n${body}` };
}

/**
 * Text PostgreSQL refuses, in a field that reaches a statement, with everything else right:
 * the fuzz user's own email and password (a sign-in whose password check passes), a fresh
 * email, the user's tokens. Never a wrong password for the fuzz user: the account throttle
 * would soon answer every other case RATE_LIMITED before the text was reached.
 */
function unstorableText(r: Random): HttpCase {
  const bad = r.pick(UNSTORABLE);
  const signIn = "mutation ($i: LoginInput!) { login(input: $i) { accessToken } }";
  const [query, variables, token] = r.pick<[string, Record<string, unknown>, boolean]>([
    [signIn, { i: { email: EMAIL, password: MARKER, deviceName: bad } }, false],
    [signIn, { i: { email: EMAIL, password: MARKER, deviceName: `${MARKER}${bad}` } }, true],
    [signIn, { i: { email: `${EMAIL}${bad}`, password: MARKER } }, false],
    [
      "mutation ($i: RegisterInput!) { register(input: $i) { accessToken } }",
      { i: { email: `fuzz-${r.int(0, 1e9)}@example.test`, password: MARKER, deviceName: bad } },
      false,
    ],
    [
      "mutation ($e: String!, $c: String!) { changeEmail(newEmail: $e, currentPassword: $c) }",
      { e: `x${bad}@example.test`, c: MARKER },
      true,
    ],
    ["mutation ($t: String) { refreshSession(refreshToken: $t) { accessToken } }", { t: `${REFRESH}${bad}` }, false],
    ["mutation ($id: ID!) { revokeSession(id: $id) }", { id: `${SESSION}${bad}` }, true],
  ]);
  return json(r, token ? bearer(ACCESS) : {}, { query, variables });
}

export const CLASSES = {
  "http-body": httpBody,
  "graphql-document": graphqlDocument,
  variables,
  authorization,
  "persisted-query": persistedQuery,
  websocket,
  upgrade,
  "unstorable-text": unstorableText,
} as const satisfies Record<string, (r: Random) => FuzzCase>;
export type FuzzClass = keyof typeof CLASSES;
