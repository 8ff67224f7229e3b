import { createSessionApi, type SessionApi, type SessionApiOptions } from "session-api";
import { CreateNotes1765000000000 } from "./migrations/1765000000000-CreateNotes";
import { NoteResolver, notesLoaders, UserNotesResolver } from "./note.resolver";
import { NoteService } from "./note.service";

/** The notes app's parts, as createSessionApi takes them: resolvers, table, services, loaders. */
export const NOTES_APP = {
  resolvers: [NoteResolver, UserNotesResolver],
  migrations: [CreateNotes1765000000000],
  services: ({ transactions, sql }) => ({ notes: new NoteService(transactions, sql) }),
  loaders: notesLoaders,
} satisfies SessionApiOptions;

/**
 * The notes app mounted on the session API (library mode). `options` are createSessionApi's
 * own (port, env, ...), for the example's entry and the tests.
 */
export function createNotesApi(options: SessionApiOptions = {}): Promise<SessionApi> {
  return createSessionApi({ ...options, ...NOTES_APP });
}
