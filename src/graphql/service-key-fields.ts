import type { FragmentDefinitionNode, GraphQLError, OperationDefinitionNode, SelectionSetNode } from "graphql";
import { forbidden } from "../errors/error-codes";

/**
 * What a service key may select at the root: fields named `service…` (each guarded by
 * requireServiceScope for its own scope) and `__typename`. Everything else is refused before
 * execution, deny by default, so a field added later is closed to keys until it is named for
 * them: a key never reaches `login`, `register` or anything else meant for users and browsers.
 */
export function isServiceKeyField(name: string): boolean {
  return name === "__typename" || /^service[A-Z]/.test(name);
}

/** FORBIDDEN (USER_SESSION_REQUIRED) if the operation selects a root field no key may call, else null. */
export function serviceKeyFieldRefusal(
  operation: OperationDefinitionNode,
  fragments: Readonly<Record<string, FragmentDefinitionNode>>,
): GraphQLError | null {
  const seen = new Set<string>();
  const refused = (set: SelectionSetNode): boolean =>
    set.selections.some((selection) => {
      if (selection.kind === "Field") return !isServiceKeyField(selection.name.value);
      if (selection.kind === "InlineFragment") return refused(selection.selectionSet);
      const name = selection.name.value;
      if (seen.has(name)) return false;
      seen.add(name);
      const fragment = fragments[name];
      return fragment ? refused(fragment.selectionSet) : false;
    });
  return refused(operation.selectionSet) ? forbidden("USER_SESSION_REQUIRED") : null;
}
