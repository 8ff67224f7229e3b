import { NoSchemaIntrospectionCustomRule, type ValidationRule } from "graphql";
import { type QueryLimits, queryLimitRules } from "./query-limits";
import { withoutStringLiterals } from "./redact-literals";

/**
 * What both transports, HTTP (Apollo) and WebSocket (graphql-ws), apply to a document beyond
 * graphql-js's specified rules, and how they word its refusals. Each transport takes its
 * rules from `documentRules` and formats every error with the one formatter
 * (format-error.ts), which words parse and validation refusals with `documentMessage`: so a
 * refusal over one cannot differ from the other (`test/live-production.test.ts`).
 */
export interface DocumentPolicy {
  queryLimits: QueryLimits;
  /** Production: no introspection, no "Did you mean" suggestions naming schema fields. */
  isProduction: boolean;
}

/** The rules both transports add to graphql-js's own: the query limits, and no introspection in production. */
export function documentRules(policy: DocumentPolicy): ValidationRule[] {
  return [...queryLimitRules(policy.queryLimits), ...(policy.isProduction ? [NoSchemaIntrospectionCustomRule] : [])];
}

/** A name longer than this is cut in messages: the document's own 90 KB field name is not echoed back. */
const MAX_NAME_IN_MESSAGE = 64;
const LONG_NAME = new RegExp(`[_A-Za-z][_0-9A-Za-z]{${MAX_NAME_IN_MESSAGE},}`, "g");

/**
 * A parse or validation message as the client gets it: no string literal of the document
 * (a password may be inline), no name longer than MAX_NAME_IN_MESSAGE characters, and in
 * production no "Did you mean …?" suggestion (it would list the schema's fields).
 */
export function documentMessage(
  message: string,
  source: string | undefined,
  policy: Pick<DocumentPolicy, "isProduction">,
): string {
  let text = withoutStringLiterals(message, source);
  if (policy.isProduction) text = text.replace(/ ?Did you mean(.+?)\?$/, "");
  return text.replace(LONG_NAME, (name) => `${name.slice(0, MAX_NAME_IN_MESSAGE)}…`);
}
