import {
  type ASTVisitor,
  type FieldNode,
  type FragmentDefinitionNode,
  GraphQLError,
  type GraphQLField,
  type GraphQLNamedType,
  getNamedType,
  isInterfaceType,
  isObjectType,
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
  maxCost: number;
}

/**
 * How many items a list field can answer, declared on the field (TypeGraphQL's `@Extensions`):
 * at most `max`, or the value of its page-size `argument` when that is written in the document.
 */
export interface ListSize {
  argument?: string;
  max: number;
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

/** The items a field can answer: its page size (argument, else default, else max), or 1 for a field that is no list. */
function listSize(field: GraphQLField<unknown, unknown>, node: FieldNode): number {
  const size = field.extensions?.listSize as ListSize | undefined;
  if (!size) return 1;
  if (!size.argument) return size.max;
  const given = node.arguments?.find((a) => a.name.value === size.argument)?.value;
  // A variable's value is not known before execution: count the most it may ask for.
  if (given?.kind === Kind.INT) return Math.min(Math.max(Number.parseInt(given.value, 10), 0), size.max);
  const fallback = field.args.find((a) => a.name === size.argument)?.defaultValue;
  return given === undefined && typeof fallback === "number" ? Math.min(fallback, size.max) : size.max;
}

/**
 * The cost of an operation: each field counts 1, times the items of every list above it, so a
 * list field counts by its page size, not once (`mySessions(first: 100) { id }` costs 200).
 * Fields of introspection count nothing (it is off in production). Computed once per fragment,
 * on the schema's types; a field the schema lacks counts nothing (validation refuses it).
 */
export function maxCostRule(maxCost: number): ValidationRule {
  return (context): ASTVisitor => ({
    OperationDefinition(operation) {
      const schema = context.getSchema();
      // Capped, like the aliases, so that fragments multiplied many times stay a small number.
      const cap = (n: number) => Math.min(n, maxCost + 1);
      const memo = new Map<string, number>();
      const inProgress = new Set<string>();
      const visit = (set: SelectionSetNode, type: GraphQLNamedType | undefined | null): number =>
        set.selections.reduce((acc, node) => {
          if (node.kind === Kind.FIELD) {
            if (node.name.value.startsWith("__") || (!isObjectType(type) && !isInterfaceType(type))) return acc;
            const field = type.getFields()[node.name.value];
            if (!field) return acc;
            const inner = node.selectionSet ? visit(node.selectionSet, getNamedType(field.type)) : 0;
            return cap(acc + listSize(field, node) * (1 + inner));
          }
          if (node.kind === Kind.INLINE_FRAGMENT) {
            const on = node.typeCondition ? schema.getType(node.typeCondition.name.value) : type;
            return cap(acc + visit(node.selectionSet, on));
          }
          const name = node.name.value;
          if (!memo.has(name)) {
            const fragment = context.getFragment(name);
            if (!fragment || inProgress.has(name)) return acc;
            inProgress.add(name);
            memo.set(name, visit(fragment.selectionSet, schema.getType(fragment.typeCondition.name.value)));
            inProgress.delete(name);
          }
          return cap(acc + (memo.get(name) ?? 0));
        }, 0);
      if (visit(operation.selectionSet, schema.getRootType(operation.operation)) > maxCost) {
        refuse(
          context,
          `Operation costs more than ${maxCost} (each field counts once per item of the lists above it; ask for smaller pages).`,
          "MAX_COST",
          operation,
        );
      }
    },
  });
}

/** One login (or other credential mutation) per operation: aliased batches would multiply guesses per request. */
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
  return [
    maxDepthRule(limits.maxDepth),
    maxAliasesRule(limits.maxAliases),
    maxCostRule(limits.maxCost),
    singleCredentialFieldRule,
  ];
}
