import { type DocumentNode, GraphQLError, getOperationAST, parse } from "graphql";
import { UNKNOWN_OPERATION } from "../graphql/format-error";
import { withoutStringLiterals } from "../graphql/redact-literals";

/**
 * graphql-ws parses a `subscribe`'s query itself and *throws* when it does not parse (the
 * socket would close 4500), and answers an operation it cannot pick with an uncoded error.
 * Checked first instead, with the HTTP path's token limit: the refusal as graphql-ws's `error`
 * message, coded as over HTTP (GRAPHQL_PARSE_FAILED, OPERATION_RESOLUTION_FAILURE); null when
 * graphql-ws may go on.
 */
export function subscribePayloadProblems(
  payload: { query: string; operationName?: string | null },
  maxTokens: number,
): GraphQLError[] | null {
  let document: DocumentNode;
  try {
    document = parse(payload.query, { maxTokens });
  } catch (error) {
    const message = error instanceof Error ? error.message : "Syntax error.";
    return [new GraphQLError(withoutStringLiterals(message, payload.query), { extensions: { code: "GRAPHQL_PARSE_FAILED" } })];
  }
  if (!getOperationAST(document, payload.operationName)) {
    const message = payload.operationName ? UNKNOWN_OPERATION : "Name the operation to run: the document has several.";
    return [new GraphQLError(message, { extensions: { code: "OPERATION_RESOLUTION_FAILURE" } })];
  }
  return null;
}
