import { Pool } from "pg";
import { sql } from "../src/db/sql";
import { afterCommit, Transactions } from "../src/db/transaction";
import { LogoutAllDevicesDocument } from "./gql/graphql";
import { liveClients, sleep, untilSubscribedAs } from "./support/live-client";
import { createTestSchema, databaseUrl, startTestServer, type TestServer } from "./support/test-server";
import { signIn, signUp } from "./support/users";

/**
 * Side effects after commit are a structure (db/transaction.ts): hooks queued in a transaction
 * run once its outermost commit has happened, and never when it rolls back, whether the work
 * throws or the COMMIT itself fails.
 */
describe("Transactions on a real pool", () => {
  let schema: Awaited<ReturnType<typeof createTestSchema>>;
  let pool: Pool;
  let transactions: Transactions;
  beforeAll(async () => {
    schema = await createTestSchema();
    pool = new Pool({ connectionString: databaseUrl(), options: `-c search_path=${schema.name}`, max: 4 });
    await pool.query(`
      CREATE TABLE notes (text text NOT NULL);
      -- Refuses the commit, not the statement: a note 'no commit' fails only at COMMIT.
      CREATE FUNCTION refuse_commit() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.text = 'no commit' THEN RAISE EXCEPTION 'refused at commit'; END IF;
        RETURN NEW;
      END $$;
      CREATE CONSTRAINT TRIGGER refuse_commit AFTER INSERT ON notes
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION refuse_commit();`);
    transactions = new Transactions(pool);
  });
  afterAll(async () => {
    await pool.end();
    await schema.drop();
  });

  const notes = async () => (await pool.query<{ text: string }>("SELECT text FROM notes ORDER BY text")).rows.map((r) => r.text);

  it("runs the hooks after the commit, in the order queued, where another connection already sees the change", async () => {
    const seen: string[][] = [];
    const answer = await transactions.run(async (tx) => {
      await tx.rows(sql`INSERT INTO notes VALUES (${"committed"})`);
      tx.afterCommit(async () => {
        seen.push(await notes());
      });
      tx.afterCommit(() => {
        seen.push(["second"]);
      });
      return 42;
    });
    expect(answer).toBe(42);
    expect(seen).toEqual([["committed"], ["second"]]);
    await pool.query("DELETE FROM notes");
  });

  it("drops the hooks when the work throws, and the change with them", async () => {
    const ran: string[] = [];
    await expect(
      transactions.run(async (tx) => {
        await tx.rows(sql`INSERT INTO notes VALUES (${"rolled back"})`);
        tx.afterCommit(() => {
          ran.push("hook");
        });
        throw new Error("halfway");
      }),
    ).rejects.toThrow("halfway");
    expect(ran).toEqual([]);
    expect(await notes()).toEqual([]);
  });

  it("drops the hooks when the COMMIT itself fails", async () => {
    const ran: string[] = [];
    await expect(
      transactions.run(async (tx) => {
        await tx.rows(sql`INSERT INTO notes VALUES (${"no commit"})`);
        tx.afterCommit(() => {
          ran.push("hook");
        });
      }),
    ).rejects.toThrow("refused at commit");
    expect(ran).toEqual([]);
    expect(await notes()).toEqual([]);
  });

  it("joins a transaction already open on the pool: the inner hooks wait for the outer commit", async () => {
    const order: string[] = [];
    await transactions.run(async (outer) => {
      await transactions.run(async (inner) => {
        expect(inner).toBe(outer);
        await inner.rows(sql`INSERT INTO notes VALUES (${"inner"})`);
        inner.afterCommit(() => {
          order.push("inner hook");
        });
        // afterCommit without the handle finds the open transaction too.
        void afterCommit(() => {
          order.push("module hook");
        });
      });
      order.push("inner returned");
      await outer.rows(sql`INSERT INTO notes VALUES (${"outer"})`);
      order.push("outer work done");
    });
    expect(order).toEqual(["inner returned", "outer work done", "inner hook", "module hook"]);
    expect(await notes()).toEqual(["inner", "outer"]);
    await pool.query("DELETE FROM notes");
  });

  it("drops an inner transaction's hooks when the outer one rolls back", async () => {
    const ran: string[] = [];
    await expect(
      transactions.run(async () => {
        await transactions.run(async (inner) => {
          inner.afterCommit(() => {
            ran.push("inner hook");
          });
        });
        throw new Error("outer fails after the inner part succeeded");
      }),
    ).rejects.toThrow("outer fails");
    expect(ran).toEqual([]);
  });

  it("runs every hook even when one throws, then throws the first failure (the commit stands)", async () => {
    const ran: string[] = [];
    await expect(
      transactions.run(async (tx) => {
        await tx.rows(sql`INSERT INTO notes VALUES (${"kept"})`);
        tx.afterCommit(() => {
          throw new Error("first hook failed");
        });
        tx.afterCommit(() => {
          ran.push("second");
        });
      }),
    ).rejects.toThrow("first hook failed");
    expect(ran).toEqual(["second"]);
    expect(await notes()).toEqual(["kept"]);
    await pool.query("DELETE FROM notes");
  });

  it("outside any transaction, afterCommit runs the hook at once", async () => {
    const ran: string[] = [];
    await afterCommit(() => {
      ran.push("now");
    });
    expect(ran).toEqual(["now"]);
  });

  it("gives the connection back to the pool on commit and on rollback", async () => {
    for (let i = 0; i < 10; i++) {
      await transactions.run(async (tx) => tx.rows(sql`SELECT 1`));
      await transactions.run(async () => Promise.reject(new Error("no"))).catch(() => undefined);
    }
    expect(pool.totalCount - pool.idleCount).toBe(0);
  });
});

describe("a revocation whose transaction rolls back", () => {
  let server: TestServer;
  const live = liveClients(() => server);
  beforeAll(async () => {
    server = await startTestServer();
    // The revoking statement succeeds; its transaction's COMMIT is refused while the flag is set.
    await server.sql(`
      CREATE TABLE refuse_revocations (on_commit boolean NOT NULL);
      INSERT INTO refuse_revocations VALUES (false);
      CREATE FUNCTION refuse_revocations() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.revoked_at IS NOT NULL AND (SELECT on_commit FROM refuse_revocations) THEN
          RAISE EXCEPTION 'injected failure at commit';
        END IF;
        RETURN NEW;
      END $$;
      CREATE CONSTRAINT TRIGGER refuse_revocations AFTER UPDATE ON sessions
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION refuse_revocations();`);
  });
  afterAll(async () => {
    await live.disposeAll();
    await server.stop();
  });

  it("publishes nothing: the other device's socket hears no event and stays open; once it commits, it hears it", async () => {
    const laptop = await signUp(server, { deviceName: "laptop" });
    const phone = await signIn(server, laptop.email, { deviceName: "phone" });
    const phoneLive = live.open(phone.accessToken).subscribe();
    await untilSubscribedAs(server, laptop.email, [phoneLive]);
    const heardBefore = phoneLive.events.length;

    await server.sql("UPDATE refuse_revocations SET on_commit = true");
    const failed = await server.request(LogoutAllDevicesDocument, { keepCurrent: true }, { token: laptop.accessToken });
    expect(failed.errors?.map((e) => e.extensions.code)).toEqual(["INTERNAL_SERVER_ERROR"]);
    await sleep(300);
    expect(phoneLive.events.length).toBe(heardBefore);
    expect(phoneLive.isClosed).toBe(false);
    const [row] = await server.sql("SELECT revoked_at FROM sessions WHERE id = $1", [phone.session.id]);
    expect(row).toEqual({ revoked_at: null });

    await server.sql("UPDATE refuse_revocations SET on_commit = false");
    const ok = await server.request(LogoutAllDevicesDocument, { keepCurrent: true }, { token: laptop.accessToken });
    expect(ok.data).toEqual({ logoutAllDevices: 1 });
    expect(await phoneLive.eventFor(phone.session.id)).toMatchObject({ reason: "LOGOUT_ALL", current: true });
  });
});
