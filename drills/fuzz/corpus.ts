/**
 * What the fuzzer starts from: valid operations of this API (each with the variables it
 * declares), the secret it plants everywhere, and words to mutate documents with.
 */

/**
 * The fuzz user's password, and every secret-looking value the fuzzer sends (passwords,
 * tokens, cookies, connection params). No answer may ever contain it.
 */
export const MARKER = "fuzz-marker-Pa55w0rd-q7XkZ";

export interface Operation {
  document: string;
  /** The declared variables and their types, as the fuzzer may fill them. */
  variables: Record<string, string>;
}

export const OPERATIONS: readonly Operation[] = [
  { document: "{ __typename }", variables: {} },
  { document: "query { me { id email createdAt } }", variables: {} },
  { document: "query { mySessions { id current deviceName browser os userAgent ipAddress expiresAt } }", variables: {} },
  {
    document:
      "query ($f: Int!, $a: String) { mySecurityEvents(first: $f, after: $a) { edges { cursor node { id type sessionIds details } } pageInfo { hasNextPage endCursor } } }",
    variables: { f: "Int!", a: "String" },
  },
  {
    document: "mutation ($i: LoginInput!) { login(input: $i) { accessToken refreshToken user { id } } }",
    variables: { i: "LoginInput!" },
  },
  {
    document: "mutation ($i: RegisterInput!) { register(input: $i) { accessToken user { email } } }",
    variables: { i: "RegisterInput!" },
  },
  {
    document: "mutation ($t: String) { refreshSession(refreshToken: $t) { accessToken refreshToken } }",
    variables: { t: "String" },
  },
  { document: "mutation ($t: String) { logout(refreshToken: $t) }", variables: { t: "String" } },
  { document: "mutation ($k: Boolean!) { logoutAllDevices(keepCurrent: $k) }", variables: { k: "Boolean!" } },
  { document: "mutation ($id: ID!) { revokeSession(id: $id) }", variables: { id: "ID!" } },
  {
    document: "mutation ($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) }",
    variables: { c: "String!", n: "String!" },
  },
  {
    document: "mutation ($e: String!, $c: String!) { changeEmail(newEmail: $e, currentPassword: $c) }",
    variables: { e: "String!", c: "String!" },
  },
  { document: "mutation ($p: String!) { reauthenticate(password: $p) }", variables: { p: "String!" } },
  { document: "subscription { sessionRevoked { sessionId reason revokedAt current } }", variables: {} },
  { document: "subscription ($b: Boolean!) { sessionRevoked @include(if: $b) { sessionId } }", variables: { b: "Boolean!" } },
  { document: "subscription { sessionRevoked @skip(if: true) { sessionId } }", variables: {} },
  {
    document: "subscription { ...S } fragment S on Subscription { sessionRevoked @skip(if: false) { sessionId } }",
    variables: {},
  },
  { document: "query { __schema { types { name fields { name } } } }", variables: {} },
  { document: "fragment F on Query { me { id } } query Q { ...F __typename }", variables: {} },
  { document: "query A { me { id } } query B { mySessions { id } }", variables: {} },
];

/** Pieces inserted into documents: grammar, directives, names of this schema and nonsense. */
export const VOCABULARY = [
  "{",
  "}",
  "(",
  ")",
  "[",
  "]",
  ":",
  "=",
  "!",
  "@",
  "$",
  "...",
  "|",
  "&",
  ",",
  "query",
  "mutation",
  "subscription",
  "fragment",
  "on",
  "true",
  "false",
  "null",
  "__typename",
  "__schema",
  '__type(name: "User") { name }',
  "me",
  "login",
  "register",
  "logout",
  "sessionRevoked",
  "@skip",
  "@skip(if: true)",
  "@include(if: $b)",
  "@include(if: false)",
  "@deprecated",
  '@specifiedBy(url: "x")',
  "$b",
  "$i",
  "$t",
  "($b: Boolean!)",
  "($i: LoginInput)",
  "(input: {})",
  `(input: { email: "a", password: "${MARKER}" })`,
  "a: me { id }",
  "...F",
  "... on Query { me { id } }",
  "fragment F on Query { ...F }",
  `"${MARKER}"`,
  `"""${MARKER}"""`,
  "1e309",
  "-0",
  "9007199254740993",
  "0x10",
  '"\\u0000"',
  '"\\uD800"',
  "#",
  "# comment\n",
  "\u00e9",
  "\u{1F600}",
  "\u200b",
  "\u0000",
  "\\",
  '"',
];
