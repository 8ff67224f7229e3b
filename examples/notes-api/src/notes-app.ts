import type { SessionVerifier, VerifiedSession } from "@session-api/backend";
import express, { type Express, type Request } from "express";
import type { Pool } from "pg";

/**
 * The app's own backend: each signed-in user's notes, in a table of its own. Every route is
 * behind the session check, so a logout anywhere (any device, any instance of the session API,
 * an admin, a service key) is refused here on the very next request.
 */
export function createNotesApp(sessions: SessionVerifier, db: Pool): Express {
  const app = express();
  app.disable("x-powered-by");
  app.use(express.json({ limit: "16kb" }));
  app.use(sessions.express());

  app.get("/notes", async (req, res) => {
    const { userId } = session(req);
    const { rows } = await db.query<{ id: string; body: string; created_at: Date }>(
      "SELECT id, body, created_at FROM notes WHERE user_id = $1 ORDER BY created_at, id",
      [userId],
    );
    res.json({ notes: rows.map((row) => ({ id: row.id, body: row.body, createdAt: row.created_at.toISOString() })) });
  });

  app.post("/notes", async (req, res) => {
    const { userId } = session(req);
    const body: unknown = req.body?.body;
    if (typeof body !== "string" || body.length === 0 || body.length > 10_000) {
      res
        .status(400)
        .json({ errors: [{ message: "body must be 1 to 10,000 characters.", extensions: { code: "BAD_USER_INPUT" } }] });
      return;
    }
    const { rows } = await db.query<{ id: string; created_at: Date }>(
      "INSERT INTO notes (user_id, body) VALUES ($1, $2) RETURNING id, created_at",
      [userId, body],
    );
    res.status(201).json({ note: { id: rows[0].id, body, createdAt: rows[0].created_at.toISOString() } });
  });

  return app;
}

/** The session the middleware put on the request (every route is behind it). */
function session(req: Request): VerifiedSession {
  return (req as Request & { session: VerifiedSession }).session;
}

/** The notes table, created if missing (an example keeps its one table without a migration tool). */
export async function createNotesTable(db: Pool): Promise<void> {
  await db.query(`CREATE TABLE IF NOT EXISTS notes (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id uuid NOT NULL,
    body text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
  )`);
  await db.query("CREATE INDEX IF NOT EXISTS notes_user_idx ON notes (user_id, created_at)");
}
