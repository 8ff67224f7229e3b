import { ApolloServer } from "@apollo/server";
import { ApolloServerPluginInlineTraceDisabled } from "@apollo/server/plugin/disabled";
import { startStandaloneServer } from "@apollo/server/standalone";
import { buildSubgraphSchema } from "@apollo/subgraph";
import { GraphQLError, type GraphQLSchema, parse } from "graphql";
import { DataSource } from "typeorm";
import { CreateSubgraphNotes1765000000001 } from "./migrations/1765000000001-CreateSubgraphNotes";
import { type SubgraphViewer, sessionChecker } from "./session-check";

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

interface NotesContext {
  viewer: SubgraphViewer | null;
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
          const { viewer } = ctx as NotesContext;
          if (!viewer) throw notSignedIn();
          if (user.id !== viewer.userId) return [];
          return db.query<NoteRow[]>("SELECT id, text FROM subgraph_notes WHERE user_id = $1 ORDER BY created_at, id", [user.id]);
        },
      },
      Mutation: {
        addNote: async (_root: unknown, { text }: { text: string }, ctx: unknown) => {
          const { viewer } = ctx as NotesContext;
          if (!viewer) throw notSignedIn();
          if (text.length < 1 || text.length > 500) {
            throw new GraphQLError("Invalid input.", {
              extensions: { code: "BAD_USER_INPUT", fields: [{ field: "text", messages: ["text must be 1 to 500 characters"] }] },
            });
          }
          const [row] = await db.query<NoteRow[]>(
            "INSERT INTO subgraph_notes (user_id, text) VALUES ($1, $2) RETURNING id, text",
            [viewer.userId, text],
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

/** Starts the notes subgraph: its own table (migrated), Apollo Server, a session check per request. */
export async function startNotesSubgraph(options: {
  port: number;
  host?: string;
  databaseUrl: string;
  dbSchema?: string;
  /** The session API's /graphql, which answers whether a credential's session is alive. */
  sessionApiUrl: string;
}): Promise<NotesSubgraph> {
  const db = new DataSource({
    type: "postgres",
    url: options.databaseUrl,
    schema: options.dbSchema,
    migrations: [CreateSubgraphNotes1765000000001],
    migrationsTableName: "notes_subgraph_migrations",
    extra: options.dbSchema ? { options: `-c search_path=${options.dbSchema}` } : {},
  });
  await db.initialize();
  await db.runMigrations({ transaction: "each" });
  const check = sessionChecker(options.sessionApiUrl);
  const server = new ApolloServer<NotesContext>({
    schema: notesSchema(db),
    includeStacktraceInErrorResponses: false,
    // Inline traces are for Apollo's hosted usage reporting, which this example does not use.
    plugins: [ApolloServerPluginInlineTraceDisabled()],
  });
  const { url } = await startStandaloneServer(server, {
    listen: { port: options.port, host: options.host ?? "127.0.0.1" },
    context: async ({ req }) => ({ viewer: await check(req.headers.authorization) }),
  });
  return {
    url,
    async stop() {
      await server.stop();
      await db.destroy();
    },
  };
}
