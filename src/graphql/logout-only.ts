import { type DocumentNode, getOperationAST, Kind, parse } from "graphql";

/** The root fields an operation of `logout` alone may hold besides `logout`. */
const HARMLESS_ROOT_FIELDS = new Set(["__typename"]);

/**
 * Whether an HTTP request's operation consists of `logout` alone: the one thing a credential
 * that may no longer be used (an expired access token, a token whose session has ended) is
 * still good for. The context builder asks this before any resolver runs, and refuses the
 * whole request otherwise, so the answer must err towards "no".
 *
 * Yes: the operation the request selects (`operationName`, or the only one, chosen by the
 * same `getOperationAST` Apollo uses) is a mutation whose root selections are all plain
 * fields named `logout` (aliased or not, any arguments or directives) or `__typename`, at least
 * one of them `logout`. No: anything else, including fragments at the root (`...on Mutation`),
 * a document that does not parse, and a request with no query text (a persisted-query hash
 * alone).
 *
 * The document is parsed a second time by Apollo; this runs only for requests whose
 * credential has already been found unusable, never on the signed-in path.
 */
export function isLogoutOnly(request: unknown, maxTokens: number): boolean {
  if (typeof request !== "object" || request === null) return false;
  const { query, operationName } = request as { query?: unknown; operationName?: unknown };
  if (typeof query !== "string") return false;
  if (operationName !== undefined && operationName !== null && typeof operationName !== "string") return false;
  let document: DocumentNode;
  try {
    document = parse(query, { maxTokens, noLocation: true });
  } catch {
    return false;
  }
  const operation = getOperationAST(document, operationName);
  if (operation?.operation !== "mutation") return false;
  let logout = false;
  for (const selection of operation.selectionSet.selections) {
    if (selection.kind !== Kind.FIELD) return false;
    if (selection.name.value === "logout") logout = true;
    else if (!HARMLESS_ROOT_FIELDS.has(selection.name.value)) return false;
  }
  return logout;
}
