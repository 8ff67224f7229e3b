import type { DataSource } from "typeorm";
import { Note } from "./note.type";

interface NoteRow {
  id: string;
  user_id: string;
  text: string;
  created_at: Date;
}

const toNote = (row: NoteRow): Note => Object.assign(new Note(), { id: row.id, text: row.text, createdAt: row.created_at });

/** Every statement on `notes`. Callers pass the viewer's id: ownership is decided here, by the query. */
export class NoteService {
  constructor(private readonly db: DataSource) {}

  async addNote(userId: string, text: string): Promise<Note> {
    const [row] = await this.db.query<NoteRow[]>(
      `INSERT INTO notes (user_id, text) VALUES ($1, $2) RETURNING id, user_id, text, created_at`,
      [userId, text],
    );
    return toNote(row);
  }

  /** Each user's notes, oldest first, in one query for many users (the DataLoader's batch). */
  async notesOfUsers(userIds: readonly string[]): Promise<Note[][]> {
    const rows = await this.db.query<NoteRow[]>(
      `SELECT id, user_id, text, created_at FROM notes WHERE user_id = ANY($1::uuid[]) ORDER BY created_at, id`,
      [userIds],
    );
    const byUser = new Map<string, Note[]>(userIds.map((id) => [id, []]));
    for (const row of rows) byUser.get(row.user_id)?.push(toNote(row));
    return userIds.map((id) => byUser.get(id) ?? []);
  }
}
