import { MaxLength, MinLength } from "class-validator";
import DataLoader from "dataloader";
import { type GraphQLContext, type LoaderFactory, requireViewer, User } from "session-api";
import { Args, ArgsType, Authorized, Ctx, Field, FieldResolver, Mutation, Resolver, Root } from "type-graphql";
import type { NoteService } from "./note.service";
import { Note } from "./note.type";

/** What this app adds to every request's context. */
export type NotesContext = GraphQLContext<{ notes: NoteService }, { notesByUser: DataLoader<string, Note[]> }>;

/** Made per request, on first use: `{ me { notes } }` for many users would be one query. */
export const notesLoaders: Record<string, LoaderFactory> = {
  notesByUser: (ctx) => new DataLoader((ids: readonly string[]) => (ctx as NotesContext).app.notes.notesOfUsers(ids)),
};

@ArgsType()
class AddNoteArgs {
  @Field(() => String, { description: "1 to 500 characters." })
  @MinLength(1)
  @MaxLength(500)
  text!: string;
}

@Resolver(() => Note)
export class NoteResolver {
  @Authorized()
  @Mutation(() => Note, { description: "Keeps a note for the signed-in user." })
  addNote(@Args(() => AddNoteArgs) { text }: AddNoteArgs, @Ctx() ctx: NotesContext): Promise<Note> {
    return ctx.app.notes.addNote(requireViewer(ctx).userId, text);
  }
}

@Resolver(() => User)
export class UserNotesResolver {
  /**
   * A user's notes, for that user only. Our schema only ever hands out the viewer as a User,
   * but the check is here too: a field must not trust how its parent was reached.
   */
  @Authorized()
  @FieldResolver(() => [Note], { description: "The user's notes, oldest first." })
  notes(@Root() user: User, @Ctx() ctx: NotesContext): Promise<Note[]> | Note[] {
    if (user.id !== requireViewer(ctx).userId) return [];
    return ctx.loaders.notesByUser.load(user.id);
  }
}
