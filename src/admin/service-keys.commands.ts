import { parseArgs } from "node:util";
import { pgPool } from "../db/pg-pool";
import { isServiceScope, PREFIX, SERVICE_SCOPES, type ServiceScope } from "../service-keys/service-key";
import { ServiceKeyService } from "../service-keys/service-key.service";
import { ServiceKeyStore } from "../service-keys/service-key.store";
import { type CommandContext, CommandError, type CommandGroup } from "./command";

async function serviceKeys(ctx: CommandContext): Promise<ServiceKeyService> {
  const { db } = await ctx.database();
  return new ServiceKeyService(new ServiceKeyStore(pgPool(db)), { requestsPerSecond: ctx.config.serviceKeyRateLimit });
}

function scopesFrom(text: string | undefined): ServiceScope[] {
  const scopes = (text ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  if (scopes.length === 0) throw new CommandError(`--scopes is required: some of ${SERVICE_SCOPES.join(", ")}`);
  const unknown = scopes.filter((s) => !isServiceScope(s));
  if (unknown.length > 0)
    throw new CommandError(`unknown scope ${unknown.join(", ")}; the scopes are ${SERVICE_SCOPES.join(", ")}`);
  return [...new Set(scopes as ServiceScope[])];
}

export const serviceKeyCommands: CommandGroup = {
  "create-key": {
    usage: "create-key --name <name> --scopes <scope,...>",
    summary: `make a service key (scopes: ${SERVICE_SCOPES.join(", ")}); the key is printed once, alone on the last line`,
    async run(args, ctx) {
      const { values } = parseArgs({ args, options: { name: { type: "string" }, scopes: { type: "string" } } });
      const name = values.name?.trim();
      if (!name || name.length > 100) throw new CommandError("--name is required (at most 100 characters)");
      const scopes = scopesFrom(values.scopes);
      const { key, row } = await (await serviceKeys(ctx)).createKey(name, scopes);
      ctx.print(`created service key "${row.name}", prefix ${row.prefix}, scopes ${row.scopes.join(", ")}`);
      ctx.print("Store it now: it is shown this once and cannot be recovered (only its hash is kept).");
      ctx.print(`Send it as: Authorization: ApiKey <key>. End it with: npm run admin -- revoke-key ${row.prefix}`);
      ctx.print(key);
      return 0;
    },
  },
  "revoke-key": {
    usage: "revoke-key <prefix>",
    summary: "end a service key: refused from its very next request",
    async run(args, ctx) {
      const { positionals } = parseArgs({ args, allowPositionals: true, options: {} });
      const [prefix] = positionals;
      if (positionals.length !== 1 || !PREFIX.test(prefix)) {
        throw new CommandError("give the key's prefix: the 12 hex digits after sak_ (see list-keys)");
      }
      if (!(await (await serviceKeys(ctx)).revokeKey(prefix))) {
        ctx.print(`no live service key has the prefix ${prefix}`);
        return 1;
      }
      ctx.print(`revoked service key ${prefix}`);
      return 0;
    },
  },
  "list-keys": {
    usage: "list-keys",
    summary: "show every service key: prefix, name, scopes, created, revoked",
    async run(_args, ctx) {
      for (const key of await (await serviceKeys(ctx)).listKeys()) {
        const state = key.revokedAt ? `revoked ${key.revokedAt.toISOString()}` : "live";
        ctx.print(`${key.prefix}  ${key.name}  ${key.scopes.join(",")}  created ${key.createdAt.toISOString()}  ${state}`);
      }
      return 0;
    },
  },
};
