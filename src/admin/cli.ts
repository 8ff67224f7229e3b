import "reflect-metadata";
import { type Config, ConfigError, loadConfig } from "../config/environment";
import { type AdminDatabase, openAdminDatabase } from "./admin-database";
import { type CommandContext, CommandError, type CommandGroup } from "./command";
import { serviceKeyCommands } from "./service-keys.commands";
import { signingKeyCommands } from "./signing-keys.commands";
import { userRoleCommands } from "./user-roles.commands";

/**
 * The operators' command line: `npm run admin -- <command> ...` and `npm run keys -- <command> ...`.
 * Each group of commands is one file; a new group is one line in its program's list below.
 * Commands run against the server's own configuration and data source (DATABASE_URL, or the
 * embedded PostgreSQL). Exit codes: 0 done, 1 failed, 2 a usage or input problem.
 */
const PROGRAMS: Readonly<Record<string, readonly CommandGroup[]>> = {
  admin: [serviceKeyCommands, userRoleCommands],
  keys: [signingKeyCommands],
};

function help(program: string, groups: readonly CommandGroup[]): string {
  const lines = groups.flatMap((group) =>
    Object.values(group).map((c) => `  npm run ${program} -- ${c.usage}\n      ${c.summary}`),
  );
  return `usage:\n${lines.join("\n")}`;
}

/** Where a run writes: lines for the operator, and problems. */
export interface CliOutput {
  out(line: string): void;
  err(line: string): void;
}

const CONSOLE: CliOutput = { out: (line) => console.log(line), err: (line) => console.error(line) };

export async function runCli(argv: readonly string[], io: CliOutput = CONSOLE): Promise<number> {
  const { out, err } = io;
  const [program = "", name, ...args] = argv;
  const groups = PROGRAMS[program];
  if (!groups) {
    err(`unknown program "${program}" (${Object.keys(PROGRAMS).join(", ")})`);
    return 2;
  }
  const command = name === undefined ? undefined : groups.find((g) => Object.hasOwn(g, name))?.[name];
  if (!command) {
    (name === undefined || name === "help" || name === "--help" ? out : console.error)(help(program, groups));
    return name === undefined || name === "help" || name === "--help" ? 0 : 2;
  }
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    err(error.message);
    return 1;
  }
  let opened: Promise<AdminDatabase> | undefined;
  const ctx: CommandContext = {
    config,
    database: () => (opened ??= openAdminDatabase(config)),
    print: out,
  };
  try {
    return await command.run(args, ctx);
  } catch (error) {
    if (error instanceof CommandError || (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
      err(`${name}: ${(error as Error).message}`);
      return 2;
    }
    err(`${name} failed: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  } finally {
    if (opened) await (await opened.catch(() => undefined))?.close();
  }
}

if (require.main === module) {
  runCli(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(error instanceof Error ? error.message : error);
      process.exit(1);
    },
  );
}
