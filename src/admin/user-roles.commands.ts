import { hostname, userInfo } from "node:os";
import { parseArgs } from "node:util";
import type { Actor } from "../audit-log/request-actor";
import { pgPool } from "../db/pg-pool";
import { Transactions } from "../db/transaction";
import { UserRole } from "../users/user-role";
import { type CommandContext, CommandError, type CommandGroup } from "./command";
import { UserAdminStore } from "./user-admin.store";
import { UserRoles } from "./user-roles";

/** The command line as the audit log names it: no session, no IP; the OS account and host in the user agent. */
function cliActor(command: string): Actor {
  let account = "unknown";
  try {
    account = userInfo().username;
  } catch {
    // No passwd entry (some containers): the host still says where it ran.
  }
  return {
    ipAddress: null,
    userAgent: `npm run admin -- ${command} (${account}@${hostname()})`,
    sessionId: null,
    operator: { kind: "CLI" },
  };
}

function emailArgument(args: string[]): string {
  const { positionals } = parseArgs({ args, allowPositionals: true, strict: true });
  if (positionals.length !== 1 || !positionals[0].includes("@")) throw new CommandError("give exactly one email address");
  return positionals[0];
}

async function setRole(name: string, role: UserRole, args: string[], ctx: CommandContext): Promise<number> {
  const email = emailArgument(args);
  const { db } = await ctx.database();
  const pool = pgPool(db);
  const result = await new UserRoles(new Transactions(pool), new UserAdminStore(pool)).setRole(email, role, cliActor(name));
  if (!result.ok) {
    console.error(
      result.reason === "LAST_ADMIN"
        ? `${name}: refused: this is the last active admin; grant another admin first`
        : `${name}: no account signs in with that email`,
    );
    return 1;
  }
  const { user, changed } = result.value;
  ctx.print(
    changed ? `${user.email} (${user.id}) is now ${role}` : `${user.email} (${user.id}) already was ${role}; nothing changed`,
  );
  return 0;
}

/** `grant` and `revoke`: who is an admin (see UserRoles). */
export const userRoleCommands: CommandGroup = {
  grant: {
    usage: "grant <email>",
    summary: "Makes the account an admin (the admin* fields, from a fresh session). Logged as ROLE_CHANGED.",
    run: (args, ctx) => setRole("grant", UserRole.ADMIN, args, ctx),
  },
  revoke: {
    usage: "revoke <email>",
    summary: "Makes the admin an ordinary user again, at its next request. The last active admin cannot be revoked.",
    run: (args, ctx) => setRole("revoke", UserRole.USER, args, ctx),
  },
};
