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
 * The three services: the session API (FEDERATION), the notes subgraph (its session check is
 * `@session-api/backend`, with a service key of the session API) and the gateway, composed
 * from the subgraphs' SDL. With `supergraph` the composition is the one built beforehand
 * (`npm run example:supergraph` composes when it builds); without it, composed here for the
 * ports actually bound (tests).
 */
export async function startSupergraph(options: {
  api?: SessionApiOptions;
  /** Where all three listen (default 127.0.0.1); a browser's page must share the host name for cookie mode. */
  host?: string;
  notesPort?: number;
  gatewayPort?: number;
  supergraph?: string;
  /** The browser origins the gateway serves with credentials (the example web app's). */
  corsOrigins?: readonly string[];
}): Promise<Supergraph> {
  const api = await createSessionApi({
    host: options.host,
    ...options.api,
    // The gateway runs beside the API, on this host: its X-Forwarded-For names the client, so
    // the per-IP bounds and the recorded addresses are each browser's, not the gateway's. (Any
    // other local process is trusted with it too; a deployment names its gateway's address.)
    env: { TRUST_PROXY: "127.0.0.1, ::1", ...options.api?.env },
    federation: true,
  });
  await api.listen();
  // The notes subgraph's service key, made as `npm run admin -- create-key --scopes sessions:stream`
  // would make it; a deployment hands the subgraph its key in its own configuration instead.
  // Revoked when the example stops, so no key outlives the process that held it.
  const serviceKeys = api.server.services.serviceKeys;
  const { key, row } = await serviceKeys.createKey("notes-subgraph", ["sessions:stream"]);
  let notes: NotesSubgraph | undefined;
  try {
    notes = await startNotesSubgraph({
      port: options.notesPort ?? 0,
      host: options.host,
      databaseUrl: api.databaseUrl,
      dbSchema: options.api?.dbSchema,
      sessionApiUrl: api.url,
      serviceKey: key,
    });
    const supergraph = options.supergraph ?? (await composeSupergraph({ sessionApiUrl: api.url, notesUrl: notes.url }));
    const gateway = await startGateway({
      supergraph,
      port: options.gatewayPort ?? 0,
      host: options.host,
      corsOrigins: options.corsOrigins,
    });
    const started = notes;
    // Once, however often it is asked: Ctrl-C under npm delivers SIGINT twice (from the
    // terminal to the process group, and from npm to its child).
    let stopping: Promise<void> | undefined;
    return {
      api,
      notes: started,
      gateway,
      stop() {
        stopping ??= (async () => {
          await gateway.stop();
          await started.stop();
          await serviceKeys.revokeKey(row.prefix);
          await api.close();
        })();
        return stopping;
      },
    };
  } catch (error) {
    await notes?.stop();
    await serviceKeys.revokeKey(row.prefix);
    await api.close();
    throw error;
  }
}
