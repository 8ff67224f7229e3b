import { AsyncLocalStorage } from "node:async_hooks";
import type { Pool, PoolClient, QueryResultRow } from "pg";
import type { SqlRunner } from "./pg-pool";
import { render, type Sql } from "./sql";

/**
 * Side effects after commit, as a structure (better-auth's `runWithTransaction` and
 * `queueAfterTransactionHook`). A flow that changes sessions inside a transaction queues what
 * it must announce with `tx.afterCommit(...)`; the queue runs once the OUTERMOST transaction
 * has committed, and is dropped if it rolls back. Nobody publishes by hand after a commit, so
 * a new flow cannot forget to, and a rollback cannot publish.
 *
 *   const ended = await transactions.run(async (tx) => {
 *     await tx.rows(sql`UPDATE ...`);
 *     tx.afterCommit(() => events.sessionsRevoked(ended));
 *   });
 *
 * Nesting: `run` inside another `run` on the same pool (in the same async call chain) joins
 * the open transaction instead of opening a second one, and its hooks wait for the outer
 * commit. No savepoints: an inner failure that the outer work catches leaves the inner's
 * statements (and hooks) part of whatever the outer commits.
 */
export type AfterCommitHook = () => void | Promise<void>;

/** An open transaction in our dialect: statements on its connection, and its after-commit queue. */
export interface Transaction extends SqlRunner {
  /**
   * Runs `hook` after the outermost transaction commits, in the order queued; never if it
   * rolls back. `run` awaits every hook before it returns; if hooks throw, all still run and
   * the first error is thrown (the commit stands).
   */
  afterCommit(hook: AfterCommitHook): void;
}

class OpenTransaction implements Transaction {
  readonly hooks: AfterCommitHook[] = [];

  constructor(
    readonly pool: Pool,
    private readonly client: PoolClient,
  ) {}

  async rows<T extends QueryResultRow>(query: Sql): Promise<T[]> {
    const { text, values } = render(query);
    return (await this.client.query<T>({ text, values })).rows;
  }

  afterCommit(hook: AfterCommitHook): void {
    this.hooks.push(hook);
  }
}

const open = new AsyncLocalStorage<OpenTransaction>();

/** Transactions on one pool. */
export class Transactions {
  constructor(private readonly pool: Pool) {}

  /**
   * Runs `work` in a transaction (or in the one already open on this pool, see above):
   * COMMIT when it resolves, ROLLBACK when it throws. Answers what `work` answered, after the
   * after-commit queue has run.
   */
  async run<T>(work: (tx: Transaction) => Promise<T>): Promise<T> {
    const outer = open.getStore();
    if (outer && outer.pool === this.pool) return work(outer);
    const client = await this.pool.connect();
    // A connection that dies while checked out emits "error" besides failing its query; the
    // pool listens only while it is idle, and an unheard "error" would end the process.
    client.on("error", ignoreConnectionError);
    const tx = new OpenTransaction(this.pool, client);
    let result: T;
    try {
      await client.query("BEGIN");
      result = await open.run(tx, () => work(tx));
      await client.query("COMMIT");
    } catch (error) {
      await rollBack(client);
      throw error;
    }
    release(client);
    await runHooks(tx.hooks);
    return result;
  }
}

/**
 * For code that may or may not run inside a transaction: queues `hook` on the open one, or,
 * outside any (a statement of its own has already committed), runs it now. Resolves once it
 * has run, or at once when queued (the transaction's `run` awaits it).
 */
export async function afterCommit(hook: AfterCommitHook): Promise<void> {
  const tx = open.getStore();
  if (tx) tx.afterCommit(hook);
  else await hook();
}

/** The failed query reports the error to the work; this listener only keeps it from being unheard. */
function ignoreConnectionError(): void {}

function release(client: PoolClient, error?: Error | boolean): void {
  client.off("error", ignoreConnectionError);
  client.release(error);
}

async function rollBack(client: PoolClient): Promise<void> {
  try {
    await client.query("ROLLBACK");
    release(client);
  } catch (error) {
    // The connection itself failed (that is usually why the work failed): do not pool it again.
    release(client, error instanceof Error ? error : true);
  }
}

async function runHooks(hooks: AfterCommitHook[]): Promise<void> {
  let failure: { error: unknown } | undefined;
  // A hook may queue more (it runs outside the transaction, so `afterCommit` runs those at once).
  for (const hook of hooks) {
    try {
      await hook();
    } catch (error) {
      failure ??= { error };
    }
  }
  if (failure) throw failure.error;
}
