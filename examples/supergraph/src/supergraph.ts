import { createSessionApi, type SessionApi, type SessionApiOptions } from "session-api";
import { composeSupergraph } from "./compose";
import { type Gateway, startGateway } from "./gateway";
import { type NotesSubgraph, startNotesSubgraph } from "./notes-subgraph";

export interface Supergraph {
  /** The session API in federation mode (a subgraph; its own endpoint still serves sessionRevoked). */
  api: SessionApi;
  notes: NotesSubgraph;
  gateway: Gateway;
  stop(): Promise<void>;
}

/**
 * The three services: the session API (FEDERATION), the notes subgraph (its session check
 * asks the session API) and the gateway, composed from the subgraphs' SDL. With
 * `supergraph` the composition is the one built beforehand (`npm run example:supergraph`
 * composes when it builds); without it, composed here for the ports actually bound (tests).
 */
export async function startSupergraph(options: {
  api?: SessionApiOptions;
  notesPort?: number;
  gatewayPort?: number;
  supergraph?: string;
}): Promise<Supergraph> {
  const api = await createSessionApi({ ...options.api, federation: true });
  await api.listen();
  let notes: NotesSubgraph | undefined;
  try {
    notes = await startNotesSubgraph({
      port: options.notesPort ?? 0,
      databaseUrl: api.databaseUrl,
      dbSchema: options.api?.dbSchema,
      sessionApiUrl: api.url,
    });
    const supergraph = options.supergraph ?? (await composeSupergraph({ sessionApiUrl: api.url, notesUrl: notes.url }));
    const gateway = await startGateway({ supergraph, port: options.gatewayPort ?? 0 });
    const started = notes;
    return {
      api,
      notes: started,
      gateway,
      async stop() {
        await gateway.stop();
        await started.stop();
        await api.close();
      },
    };
  } catch (error) {
    await notes?.stop();
    await api.close();
    throw error;
  }
}
