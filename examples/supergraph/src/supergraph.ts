import { createSessionVerifier } from "@session-api/backend";
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
 * `@session-api/backend`, with a service key of the session API) and the gateway (whose own
 * sockets keep the API's socket rules, with a verifier of its own), composed
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
  // Each part started is undone in reverse order: by stop(), or at once if a later part fails.
  const undo: (() => Promise<unknown>)[] = [() => api.close()];
  const unwind = async () => {
    for (const step of undo.splice(0).reverse()) await step();
  };
  try {
    // The subgraph's and the gateway's service keys, made as `npm run admin -- create-key
    // --scopes sessions:stream` would make them; a deployment hands each its key in its own
    // configuration instead. Revoked when the example stops: no key outlives its holder.
    const serviceKeys = api.server.services.serviceKeys;
    const serviceKey = async (name: string) => {
      const { key, row } = await serviceKeys.createKey(name, ["sessions:stream"]);
      undo.push(() => serviceKeys.revokeKey(row.prefix));
      return key;
    };
    const notes = await startNotesSubgraph({
      port: options.notesPort ?? 0,
      host: options.host,
      databaseUrl: api.databaseUrl,
      dbSchema: options.api?.dbSchema,
      sessionApiUrl: api.url,
      serviceKey: await serviceKey("notes-subgraph"),
    });
    undo.push(() => notes.stop());
    // The gateway's own sockets keep the API's socket rules (gateway-sockets.ts).
    const sessions = createSessionVerifier({ url: api.url, serviceKey: await serviceKey("gateway") });
    undo.push(() => sessions.close());
    await sessions.ready();
    const supergraph = options.supergraph ?? (await composeSupergraph({ sessionApiUrl: api.url, notesUrl: notes.url }));
    const gateway = await startGateway({
      supergraph,
      port: options.gatewayPort ?? 0,
      host: options.host,
      corsOrigins: options.corsOrigins,
      sessions,
    });
    undo.push(() => gateway.stop());
    // Once, however often it is asked: Ctrl-C under npm delivers SIGINT twice (from the
    // terminal to the process group, and from npm to its child).
    let stopping: Promise<void> | undefined;
    return {
      api,
      notes,
      gateway,
      stop() {
        stopping ??= unwind();
        return stopping;
      },
    };
  } catch (error) {
    await unwind();
    throw error;
  }
}
