import { ApolloServer } from "@apollo/server";
import { ApolloServerPluginInlineTraceDisabled } from "@apollo/server/plugin/disabled";
import { startStandaloneServer } from "@apollo/server/standalone";
import { buildSubgraphSchema } from "@apollo/subgraph";
import { createSessionVerifier, type VerifiedSession } from "@session-api/backend";
import { sessionContext } from "@session-api/backend/apollo";
import { GraphQLError, type GraphQLSchema, parse } from "graphql";
import { DataSource } from "typeorm";
import { CreateSubgraphNotes1765000000001 } from "./migrations/1765000000001-CreateSubgraphNotes";

/** The notes subgraph's own SDL: it extends the session API's User entity with notes. */
export const NOTES_TYPE_DEFS = parse(`
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])

  """A line of text a user keeps; only its author ever sees it."""
  type Note {
    id: ID!
    text: String!
  }

  type User @key(fields: "id") {
    id: ID!
    """The user's notes, oldest first: only ever the signed-in user's own."""
    notes: [Note!]!
  }

  type Mutation {
    """Keeps a note for the signed-in user."""
    addNote(text: String!): Note!
  }
`);

/** What `@session-api/backend` put on the request: the verified session, or null for no credential. */
interface NotesContext {
  session: VerifiedSession | null;
}

interface NoteRow {
  id: string;
  text: string;
}

const notSignedIn = () =>
  new GraphQLError("Not authenticated.", { extensions: { code: "UNAUTHENTICATED", reason: "TOKEN_MISSING" } });

function notesSchema(db: DataSource): GraphQLSchema {
  return buildSubgraphSchema({
    typeDefs: NOTES_TYPE_DEFS,
    resolvers: {
      User: {
        // Any id resolves to a reference; its notes are read for the viewer alone.
        __resolveReference: (reference: { id: string }) => ({ id: reference.id }),
        notes: async (user: { id: string }, _args: unknown, ctx: unknown) => {
          const { session } = ctx as NotesContext;
          if (!session) throw notSignedIn();
          if (user.id !== session.userId) return [];
          return db.query<NoteRow[]>("SELECT id, text FROM subgraph_notes WHERE user_id = $1 ORDER BY created_at, id", [user.id]);
        },
      },
      Mutation: {
        addNote: async (_root: unknown, { text }: { text: string }, ctx: unknown) => {
          const { session } = ctx as NotesContext;
          if (!session) throw notSignedIn();
          if (text.length < 1 || text.length > 500) {
            throw new GraphQLError("Invalid input.", {
              extensions: { code: "BAD_USER_INPUT", fields: [{ field: "text", messages: ["text must be 1 to 500 characters"] }] },
            });
          }
          const [row] = await db.query<NoteRow[]>(
            "INSERT INTO subgraph_notes (user_id, text) VALUES ($1, $2) RETURNING id, text",
            [session.userId, text],
          );
          return row;
        },
      },
    },
  });
}

/** The notes subgraph's schema without a database: for composition, which needs only its SDL. */
export function notesSubgraphSdlSchema(): GraphQLSchema {
  return notesSchema(new DataSource({ type: "postgres" }));
}

export interface NotesSubgraph {
  url: string;
  stop(): Promise<void>;
}

/**
 * Starts the notes subgraph: its own table (migrated), Apollo Server, and the session check of
 * `@session-api/backend` before any resolver runs. The verifier checks the access token against
 * the session API's published keys and holds the session API's revocation stream under a
 * lease, so a revoking mutation returns only once this subgraph has dropped the session: the
 * very next request here is refused, with the API's own code, reason and status.
 */
export async function startNotesSubgraph(options: {
  port: number;
  host?: string;
  databaseUrl: string;
  dbSchema?: string;
  /** The session API's address (its /graphql URL will do). */
  sessionApiUrl: string;
  /** A service key of the session API with the scope `sessions:stream`. */
  serviceKey: string;
}): Promise<NotesSubgraph> {
  const db = new DataSource({
    type: "postgres",
    url: options.databaseUrl,
    schema: options.dbSchema,
    migrations: [CreateSubgraphNotes1765000000001],
    migrationsTableName: "notes_subgraph_migrations",
    extra: options.dbSchema ? { options: `-c search_path=${options.dbSchema}` } : {},
  });
  const sessions = createSessionVerifier({ url: options.sessionApiUrl, serviceKey: options.serviceKey });
  const server = new ApolloServer<NotesContext>({
    schema: notesSchema(db),
    includeStacktraceInErrorResponses: false,
    // Whoever started the subgraph stops it (the example on SIGINT): left on, Apollo Server
    // would stop itself on the signal and then send it to the process again.
    stopOnTerminationSignals: false,
    // Inline traces are for Apollo's hosted usage reporting, which this example does not use.
    plugins: [ApolloServerPluginInlineTraceDisabled()],
  });
  const stop = async () => {
    await server.stop().catch(() => undefined); // never started, when start-up failed
    await sessions.close();
    if (db.isInitialized) await db.destroy();
  };
  try {
    await db.initialize();
    await db.runMigrations({ transaction: "each" });
    await sessions.ready();
    const { url } = await startStandaloneServer(server, {
      listen: { port: options.port, host: options.host ?? "127.0.0.1" },
      // Optional: the gateway asks for `_service` and `_entities` without a credential; the
      // resolvers refuse what needs one.
      context: sessionContext(sessions, { optional: true }),
    });
    return { url, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
