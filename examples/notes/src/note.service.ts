import { type SqlRunner, sql, type Transactions } from "session-api";
import { Note } from "./note.type";

interface NoteRow {
  id: string;
  user_id: string;
  text: string;
  created_at: Date;
}

const toNote = (row: NoteRow): Note => Object.assign(new Note(), { id: row.id, text: row.text, createdAt: row.created_at });

/** Told of each note once it is committed (a webhook, a search index, a live feed). */
export type NoteAddedListener = (note: Note, userId: string) => void | Promise<void>;

/** Every statement on `notes`. Callers pass the viewer's id: ownership is decided here, by the query. */
export class NoteService {
  private readonly listeners: NoteAddedListener[] = [];

  constructor(
    private readonly transactions: Transactions,
    private readonly db: SqlRunner,
  ) {}

  onNoteAdded(listener: NoteAddedListener): void {
    this.listeners.push(listener);
  }

  /** Inserts the note; listeners hear of it from the after-commit queue, never for a rollback. */
  addNote(userId: string, text: string): Promise<Note> {
    return this.transactions.run(async (tx) => {
      const [row] = await tx.rows<NoteRow>(
        sql`INSERT INTO notes (user_id, text) VALUES (${userId}, ${text}) RETURNING id, user_id, text, created_at`,
      );
      const note = toNote(row);
      for (const listener of this.listeners) tx.afterCommit(() => listener(note, userId));
      return note;
    });
  }

  /** Each user's notes, oldest first, in one query for many users (the DataLoader's batch). */
  async notesOfUsers(userIds: readonly string[]): Promise<Note[][]> {
    const rows = await this.db.rows<NoteRow>(
      sql`SELECT id, user_id, text, created_at FROM notes WHERE user_id = ANY(${userIds}::uuid[]) ORDER BY created_at, id`,
    );
    const byUser = new Map<string, Note[]>(userIds.map((id) => [id, []]));
    for (const row of rows) byUser.get(row.user_id)?.push(toNote(row));
    return userIds.map((id) => byUser.get(id) ?? []);
  }
}
