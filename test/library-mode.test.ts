import { parse, validate } from "graphql";
import { Args, ArgsType, Authorized, Field, Mutation, Resolver } from "type-graphql";
import { AddNoteDocument, MyNotesDocument } from "../examples/notes/gql/graphql";
import type { NoteService } from "../examples/notes/src/note.service";
import { NOTES_APP } from "../examples/notes/src/notes-api";
import { CredentialMutation, createSessionApi, FRESH_SESSION, type SessionApi } from "../src";
import { singleCredentialFieldRule } from "../src/graphql/query-limits";
import { generateSigningKey } from "../src/lib/signing-keys";
import { LogoutDocument, MeDocument } from "./gql/graphql";
import { createTestSchema, databaseUrl, TEST_ENV, type TestServer, testServerFrom } from "./support/test-server";
import { PASSWORD, signIn, signUp } from "./support/users";

@ArgsType()
class ProbeArgs {
  @Field(() => String)
  password!: string;
}

/** An app's own resolvers beside the notes: one needs a fresh session, one is a credential mutation. */
@Resolver()
class ProbeResolver {
  @Authorized(FRESH_SESSION)
  @Mutation(() => Boolean, { description: "Needs a fresh session." })
  probeFresh(): boolean {
    return true;
  }

  @CredentialMutation()
  @Mutation(() => Boolean, { description: "Checks a credential (marked)." })
  probeCredential(@Args(() => ProbeArgs) _args: ProbeArgs): boolean {
    return false;
  }
}

let api: SessionApi;
let notes: NoteService;
let server: TestServer;

beforeAll(async () => {
  const schema = await createTestSchema();
  api = await createSessionApi({
    ...NOTES_APP,
    resolvers: [...NOTES_APP.resolvers, ProbeResolver],
    services: (deps) => {
      const app = NOTES_APP.services(deps);
      notes = app.notes;
      return app;
    },
    env: { ...TEST_ENV, JWT_PRIVATE_KEYS: generateSigningKey("ES256") },
    databaseUrl: databaseUrl(),
    dbSchema: schema.name,
  });
  await api.listen();
  server = await testServerFrom(api.server, schema, () => api.close());
});

afterAll(() => server?.stop());

const notesOf = (res: { data?: { me: { notes: { text: string }[] } } | null }) => res.data?.me.notes.map((n) => n.text);

describe("library mode: the notes app's resolvers in the session API's server", () => {
  it("listens on the URL and port it reports, and runs the app's migration beside ours", async () => {
    expect(api.url).toBe(`http://127.0.0.1:${api.port}/graphql`);
    const [table] = await server.sql<{ name: string }>("SELECT to_regclass('notes')::text AS name");
    expect(table.name).toBe("notes");
  });

  it("lets a signed-in user add and read notes with { me { id notes { text } } }, then log out through the same endpoint", async () => {
    const user = await signUp(server);
    const added = await server.request(AddNoteDocument, { text: "buy milk" }, { token: user.accessToken });
    expect(added.errors).toBeUndefined();
    expect(added.data?.addNote.text).toBe("buy milk");
    const read = await server.request(MyNotesDocument, {}, { token: user.accessToken });
    expect(read).toMatchObject({ status: 200, data: { me: { id: user.user.id, notes: [{ text: "buy milk" }] } } });
    expect(await server.request(LogoutDocument, {}, { token: user.accessToken })).toMatchObject({ data: { logout: true } });
  });

  it("refuses the very next request after logout, to a notes field or to ours, 401 SESSION_REVOKED: 0 stale answers over 20 trials", async () => {
    const { email } = await signUp(server);
    const refused = { status: 401, errors: [{ extensions: { code: "UNAUTHENTICATED", reason: "SESSION_REVOKED" } }] };
    let stale = 0;
    for (let trial = 0; trial < 20; trial++) {
      const { accessToken } = await signIn(server, email);
      expect(notesOf(await server.request(MyNotesDocument, {}, { token: accessToken }))).toBeDefined();
      await server.request(LogoutDocument, {}, { token: accessToken });
      const [notes, write, ours] = [
        await server.request(MyNotesDocument, {}, { token: accessToken }),
        await server.request(AddNoteDocument, { text: "after logout" }, { token: accessToken }),
        await server.request(MeDocument, {}, { token: accessToken }),
      ];
      for (const answer of [notes, write, ours]) {
        if (answer.status !== 401) stale++;
        expect(answer).toMatchObject(refused);
        expect(answer.data).toBeUndefined();
      }
    }
    expect(stale).toBe(0);
    const [written] = await server.sql<{ n: number }>("SELECT count(*)::int AS n FROM notes WHERE text = 'after logout'");
    expect(written.n).toBe(0);
  });

  it("tells an app's listener of a note from the after-commit queue, once the row is visible to everyone", async () => {
    const user = await signUp(server);
    const heard: { text: string; visible: number }[] = [];
    notes.onNoteAdded(async (note) => {
      // Another connection: sees the row only if the transaction has committed.
      const [row] = await server.sql<{ n: number }>("SELECT count(*)::int AS n FROM notes WHERE id = $1", [note.id]);
      heard.push({ text: note.text, visible: row.n });
    });
    await server.request(AddNoteDocument, { text: "committed first" }, { token: user.accessToken });
    expect(heard).toEqual([{ text: "committed first", visible: 1 }]);
  });

  it("shows each user only their own notes", async () => {
    const ada = await signUp(server);
    const bob = await signUp(server);
    await server.request(AddNoteDocument, { text: "ada's secret" }, { token: ada.accessToken });
    await server.request(AddNoteDocument, { text: "bob's list" }, { token: bob.accessToken });
    expect(notesOf(await server.request(MyNotesDocument, {}, { token: bob.accessToken }))).toEqual(["bob's list"]);
    expect(notesOf(await server.request(MyNotesDocument, {}, { token: ada.accessToken }))).toEqual(["ada's secret"]);
  });

  it("refuses an app mutation without a session with the catalog's UNAUTHENTICATED (@Authorized)", async () => {
    const res = await server.request(AddNoteDocument, { text: "anonymous" });
    expect(res).toMatchObject({
      status: 401,
      data: null,
      errors: [{ message: "Not authenticated.", extensions: { code: "UNAUTHENTICATED", reason: "TOKEN_MISSING" } }],
    });
  });

  it("answers an app's invalid argument BAD_USER_INPUT without echoing it", async () => {
    const user = await signUp(server);
    const res = await server.request(AddNoteDocument, { text: "" }, { token: user.accessToken });
    expect(res.errors?.[0].extensions).toMatchObject({ code: "BAD_USER_INPUT", fields: [{ field: "text" }] });
  });

  it("applies the fresh-session guard, @Authorized(FRESH_SESSION), to an app's resolver", async () => {
    const user = await signUp(server);
    const probe = { query: "mutation { probeFresh }" };
    expect(await server.post(probe, { token: user.accessToken })).toMatchObject({ status: 200, data: { probeFresh: true } });
    await server.sql("UPDATE sessions SET authenticated_at = now() - interval '1 day' WHERE id = $1", [user.session.id]);
    expect(await server.post(probe, { token: user.accessToken })).toMatchObject({
      status: 403,
      errors: [{ extensions: { code: "FORBIDDEN", reason: "SESSION_NOT_FRESH" } }],
    });
  });

  it("holds the query limits on the merged schema: 16 aliases of an app field are refused", async () => {
    const user = await signUp(server);
    const fields = Array.from({ length: 16 }, (_, i) => `n${i}: notes { text }`).join(" ");
    const res = await server.post({ query: `{ me { ${fields} } }` }, { token: user.accessToken });
    expect(res).toMatchObject({
      status: 400,
      errors: [{ extensions: { code: "GRAPHQL_VALIDATION_FAILED", reason: "MAX_ALIASES" } }],
    });
  });

  it("counts an app's marked mutation as a credential mutation: never two in one operation", async () => {
    const res = await server.post({
      query: `mutation { probeCredential(password: "x") login(input: { email: "a@example.test", password: "${PASSWORD}" }) { accessToken } }`,
    });
    expect(res).toMatchObject({
      status: 400,
      errors: [{ extensions: { code: "GRAPHQL_VALIDATION_FAILED", reason: "CREDENTIAL_BATCH" } }],
    });
    const one = validate(api.schema, parse(`mutation { probeCredential(password: "x") addNote(text: "y") { id } }`), [
      singleCredentialFieldRule,
    ]);
    expect(one).toEqual([]);
  });
});
