import { createSecretKey, randomBytes, randomUUID } from "node:crypto";
import { createRemoteJWKSet, jwtVerify } from "jose";
import jwt from "jsonwebtoken";
import { createSessionVerifier } from "../backend/src/index";
import { notesApiDrill } from "../drills/notes-api-drill";
import { createDrillSchema, startDrillServer } from "../drills/support/drill-server";
import { gql } from "../drills/support/http";
import { DRILL_PASSWORD, OPERATIONS, uniqueEmail } from "../drills/support/load";
import { createDrillServiceKey } from "../drills/support/service-key";

/** Microseconds per call of `check`, over `n` calls made one after another. */
async function perCall(n: number, check: () => unknown | Promise<unknown>): Promise<number> {
  const started = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await check();
  return Number(process.hrtime.bigint() - started) / 1000 / n;
}

const median = (values: number[]) => [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)];

/**
 * `@session-api/backend`'s figures for `npm run bench`: the notes-api drill's revoking call
 * (logout, answered only once every connected verifier has acknowledged), and the verifier's
 * cost per request against what a team would otherwise write: jsonwebtoken HS256 alone (no
 * revocation check, and a shared secret that can mint tokens), and jose with a remote JWKS
 * (createRemoteJWKSet: published keys, no revocation check). Markdown lines.
 */
export async function verifierSection(databaseUrl: string, quick: boolean): Promise<string[]> {
  const lines: string[] = [];
  const trials = quick ? 20 : 200;
  const drill = await notesApiDrill({ databaseUrl, trials });
  lines.push(
    "Two session API instances on one database, two notes-api processes (examples/notes-api, Express + `@session-api/backend`), each streaming from one instance. " +
      "Each trial: sign in, write and read a note through both backends, `logout` on either instance (alternating), then the notes on both backends at once.\n",
  );
  lines.push("| trials | stale answers | the revoking call (`logout`): p50 ms | p99 ms | max ms | contract |");
  lines.push("| -----: | ------------: | -----------------------------------: | -----: | -----: | -------- |");
  lines.push(
    `| ${trials} | **${drill.stale}** | ${drill.revokeMs.p50} | ${drill.revokeMs.p99} | ${drill.revokeMs.max} | ${drill.violations.length ? `BROKEN: ${drill.violations.slice(0, 3).join("; ")}` : "held"} |`,
  );

  const schema = await createDrillSchema(databaseUrl);
  const server = await startDrillServer(databaseUrl, {}, { dbSchema: schema.name });
  const base = server.url.replace(/\/graphql$/, "");
  const sessions = createSessionVerifier({
    url: base,
    serviceKey: await createDrillServiceKey(server, "bench", ["sessions:stream"]),
  });
  try {
    await sessions.ready();
    const email = uniqueEmail();
    const registered = await gql(server.url, OPERATIONS.register, { e: email, p: DRILL_PASSWORD });
    const token = (registered.json?.data as { register?: { accessToken: string } } | undefined)?.register?.accessToken;
    if (!token) throw new Error(`register failed: ${registered.body}`);
    const remote = createRemoteJWKSet(new URL(`${base}/.well-known/jwks.json`));
    const { issuer, audience } = server.services.config.jwt;
    const secret = createSecretKey(randomBytes(32));
    const hsToken = jwt.sign({ sid: randomUUID(), exp: Math.floor(Date.now() / 1000) + 300 }, secret, {
      algorithm: "HS256",
      subject: randomUUID(),
      issuer,
      audience,
    });
    const strategies = {
      hs256: () => jwt.verify(hsToken, secret, { algorithms: ["HS256"], issuer, audience }),
      jose: () => jwtVerify(token, remote, { issuer, audience }),
      ours: async () => {
        const check = await sessions.verify(token);
        if (!check.ok) throw new Error(`the verifier refused a live session: ${check.reason}`);
      },
    };
    const n = quick ? 2000 : 20_000;
    const runs: Record<keyof typeof strategies, number[]> = { hs256: [], jose: [], ours: [] };
    for (const check of Object.values(strategies)) await perCall(200, check); // warm-up, the JWKS fetched
    for (const order of [
      ["hs256", "jose", "ours"],
      ["ours", "jose", "hs256"],
      ["jose", "ours", "hs256"],
    ] as const) {
      for (const which of order) runs[which].push(await perCall(n, strategies[which]));
    }
    const us = { hs256: median(runs.hs256), jose: median(runs.jose), ours: median(runs.ours) };
    lines.push(
      `\n### The verifier's cost per request (in process, ${n} sequential checks of one token, three rounds in rotating order, median)\n`,
    );
    lines.push("| check | revocation | µs per request | vs jsonwebtoken HS256 |");
    lines.push("| ----- | ---------- | -------------: | --------------------: |");
    lines.push(`| jsonwebtoken HS256 alone (shared secret) | none: until the token expires | ${us.hs256.toFixed(2)} | 1.00 |`);
    lines.push(
      `| jose + createRemoteJWKSet (published keys) | none: until the token expires | ${us.jose.toFixed(2)} | ${(us.jose / us.hs256).toFixed(2)} |`,
    );
    lines.push(
      `| ours: \`sessions.verify\` (JWKS, session in memory under the lease) | exact: refused once the revoking call returns | ${us.ours.toFixed(2)} | **${(us.ours / us.hs256).toFixed(2)}** |`,
    );
    lines.push(
      `\nOurs is ${(us.jose / us.ours).toFixed(1)}× as fast as jose with a remote JWKS: a token's signature is checked once and the verified token kept by its exact text (the API does the same), so a request costs a map lookup and the lease check.`,
    );
  } finally {
    await sessions.close();
    await server.stop();
    await schema.drop();
  }
  return lines;
}
