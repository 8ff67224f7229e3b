import { printSubgraphSchema } from "@apollo/subgraph";
import { composeServices } from "@theguild/federation-composition";
import { parse } from "graphql";
import { createSessionApi } from "session-api";
import { notesSubgraphSdlSchema } from "./notes-subgraph";

/** The session API's name in the composition: the gateway sends cookies to this subgraph alone. */
export const SESSION_SUBGRAPH = "session";

export interface SubgraphAddress {
  sessionApiUrl: string;
  notesUrl: string;
}

/**
 * Composes the supergraph from each subgraph's own SDL, as its `_service { sdl }` prints it:
 * the session API in federation mode, and the notes subgraph. Fails on any composition error.
 */
export async function composeSupergraph(at: SubgraphAddress): Promise<string> {
  const sessionApi = await createSessionApi({ federation: true });
  const result = composeServices([
    { name: SESSION_SUBGRAPH, url: at.sessionApiUrl, typeDefs: parse(printSubgraphSchema(sessionApi.schema)) },
    { name: "notes", url: at.notesUrl, typeDefs: parse(printSubgraphSchema(notesSubgraphSdlSchema())) },
  ]);
  if (result.errors) throw new Error(`composition failed:\n${result.errors.map((e) => `  - ${e.message}`).join("\n")}`);
  return result.supergraphSdl;
}
