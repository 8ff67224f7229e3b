/**
 * Asserts a state the code cannot reach unless it has a bug (graphql-js's habit). The error
 * is internal: clients see INTERNAL_SERVER_ERROR, never this message. Expected failures are
 * results or catalog errors instead.
 */
export function invariant(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`Invariant violation: ${message}`);
}
