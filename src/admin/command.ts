import type { Config } from "../config/environment";
import type { AdminDatabase } from "./admin-database";

/** What a command can reach: the parsed config, the database (opened on first use), its output. */
export interface CommandContext {
  config: Config;
  /** The server's own data source, embedded PostgreSQL included; migrated before it is handed out. */
  database(): Promise<AdminDatabase>;
  /** A line for the operator (stdout). */
  print(line: string): void;
}

export interface Command {
  /** `create-key --name <name> --scopes <a,b>`: what `npm run admin -- help` shows. */
  usage: string;
  summary: string;
  /** Resolves with the exit code. Throws CommandError for a usage or input problem (exit 2). */
  run(args: string[], ctx: CommandContext): Promise<number>;
}

/** A command group: one file per group, registered with one line in cli.ts. */
export type CommandGroup = Readonly<Record<string, Command>>;

/** A problem with what the operator typed: printed alone, exit 2, no stack. */
export class CommandError extends Error {
  override name = "CommandError";
}
