import {
  type ASTVisitor,
  type DocumentNode,
  GraphQLError,
  type GraphQLSchema,
  Kind,
  type SelectionSetNode,
  type ValidationContext,
  validate,
} from "graphql";

/**
 * A subscription's root field must not be skipped: `@skip` or `@include` anywhere in its root
 * selection (through fragments too) is a validation error. A subscription always has exactly
 * one root field; graphql-js 17 refuses these directives there, and 16's own
 * SingleFieldSubscriptionsRule instead *throws* when their `if` is a variable or missing (it
 * evaluates them with no variables), which made such a document an internal error.
 */
export function NoSkippedSubscriptionRootRule(context: ValidationContext): ASTVisitor {
  const check = (set: SelectionSetNode, name: string, seen: Set<string>) => {
    for (const selection of set.selections) {
      for (const directive of selection.directives ?? []) {
        if (directive.name.value !== "skip" && directive.name.value !== "include") continue;
        context.reportError(
          new GraphQLError(
            `${name} must not use @${directive.name.value} in its root selection: a subscription has exactly one root field.`,
            {
              nodes: [directive],
            },
          ),
        );
      }
      if (selection.kind === Kind.INLINE_FRAGMENT) check(selection.selectionSet, name, seen);
      if (selection.kind === Kind.FRAGMENT_SPREAD && !seen.has(selection.name.value)) {
        seen.add(selection.name.value);
        const fragment = context.getFragment(selection.name.value);
        if (fragment) check(fragment.selectionSet, name, seen);
      }
    }
  };
  return {
    OperationDefinition(node) {
      if (node.operation === "subscription") {
        check(node.selectionSet, node.name ? `Subscription "${node.name.value}"` : "An anonymous subscription", new Set());
      }
      return false;
    },
  };
}

/**
 * The rules that must pass before graphql-js's own rules may run on a document (they throw on
 * what these refuse). Answers the errors, each GRAPHQL_VALIDATION_FAILED.
 */
export function validateBeforeSpecifiedRules(schema: GraphQLSchema, document: DocumentNode): GraphQLError[] {
  return validate(schema, document, [NoSkippedSubscriptionRootRule]).map(
    (e) => new GraphQLError(e.message, { nodes: e.nodes, extensions: { code: "GRAPHQL_VALIDATION_FAILED" } }),
  );
}
