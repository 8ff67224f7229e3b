import {
  type ASTVisitor,
  type FragmentDefinitionNode,
  GraphQLError,
  Kind,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
} from "graphql";
import { isCredentialField } from "./credential-field";

/**
 * Validation rules that refuse abusive documents before anything executes (OWASP GraphQL
 * cheat sheet). They are plain graphql-js rules, so the WebSocket server can pass the same
 * list to its own `validate`. Refusals are GRAPHQL_VALIDATION_FAILED (HTTP 400) with an
 * `extensions.reason`. Token count is limited by the parser (`parseOptions.maxTokens`).
 */
export interface QueryLimits {
  maxDepth: number;
  maxAliases: number;
}

function refuse(context: ValidationContext, message: string, reason: string, node: OperationDefinitionNode) {
  context.reportError(new GraphQLError(message, { nodes: [node], extensions: { reason } }));
}

type Selections = SelectionSetNode["selections"];

/**
 * Folds a selection set bottom-up, computing each fragment once: a fragment spread many
 * times (or spreading others many times) costs one visit, so the rule itself cannot be made
 * exponential. A cyclic spread counts as empty (NoFragmentCyclesRule refuses it anyway).
 */
function fold(
  context: ValidationContext,
  field: (node: Extract<Selections[number], { kind: Kind.FIELD }>, inner: number) => number,
  combine: (a: number, b: number) => number,
): (set: SelectionSetNode) => number {
  const memo = new Map<string, number>();
  const inProgress = new Set<string>();
  const visit = (set: SelectionSetNode): number =>
    set.selections.reduce((acc, node) => {
      if (node.kind === Kind.FIELD) return combine(acc, field(node, node.selectionSet ? visit(node.selectionSet) : 0));
      if (node.kind === Kind.INLINE_FRAGMENT) return combine(acc, visit(node.selectionSet));
      const name = node.name.value;
      if (!memo.has(name)) {
        const fragment: FragmentDefinitionNode | null | undefined = context.getFragment(name);
        if (!fragment || inProgress.has(name)) return acc;
        inProgress.add(name);
        memo.set(name, visit(fragment.selectionSet));
        inProgress.delete(name);
      }
      return combine(acc, memo.get(name)!);
    }, 0);
  return visit;
}

export function maxDepthRule(maxDepth: number): ValidationRule {
  return (context): ASTVisitor => ({
    OperationDefinition(operation) {
      // Introspection is off in production; in development its own shape is deep by design.
      const depth = fold(context, (node, inner) => (node.name.value.startsWith("__") ? 0 : 1 + inner), Math.max);
      if (depth(operation.selectionSet) > maxDepth) {
        refuse(context, `Query is deeper than ${maxDepth} levels.`, "MAX_DEPTH", operation);
      }
    },
  });
}

export function maxAliasesRule(maxAliases: number): ValidationRule {
  return (context): ASTVisitor => ({
    OperationDefinition(operation) {
      // Capped so that a fragment multiplied many times stays a small number.
      const add = (a: number, b: number) => Math.min(a + b, maxAliases + 1);
      const aliases = fold(context, (node, inner) => add(node.alias ? 1 : 0, inner), add);
      if (aliases(operation.selectionSet) > maxAliases) {
        refuse(context, `Operation uses more than ${maxAliases} aliases.`, "MAX_ALIASES", operation);
      }
    },
  });
}

/**
 * One login (or other credential mutation) per operation: aliased batches would multiply
 * guesses per request. Credential mutations are the fields marked `@CredentialMutation()`
 * (credential-field.ts) in the schema being validated, an app's own included.
 */
export const singleCredentialFieldRule: ValidationRule = (context): ASTVisitor => ({
  OperationDefinition(operation) {
    if (operation.operation !== "mutation") return;
    const fields = context.getSchema().getMutationType()?.getFields();
    if (!fields) return;
    // Response keys, not fields: the same field spread twice under one key runs once.
    const keys = new Set<string>();
    const seen = new Set<string>();
    const visitRoot = (set: SelectionSetNode): void => {
      for (const node of set.selections) {
        if (node.kind === Kind.FIELD) {
          if (isCredentialField(fields[node.name.value])) keys.add(node.alias?.value ?? node.name.value);
        } else if (node.kind === Kind.INLINE_FRAGMENT) {
          visitRoot(node.selectionSet);
        } else if (!seen.has(node.name.value)) {
          seen.add(node.name.value);
          const fragment = context.getFragment(node.name.value);
          if (fragment) visitRoot(fragment.selectionSet);
        }
      }
    };
    visitRoot(operation.selectionSet);
    if (keys.size > 1) {
      refuse(context, "Only one sign-in or credential change is allowed per operation.", "CREDENTIAL_BATCH", operation);
    }
  },
});

export function queryLimitRules(limits: QueryLimits): ValidationRule[] {
  return [maxDepthRule(limits.maxDepth), maxAliasesRule(limits.maxAliases), singleCredentialFieldRule];
}
