import { type Supergraph, startSupergraph } from "../../examples/supergraph/src/supergraph";
import { generateSigningKey } from "../../src/lib/signing-keys";
import { createTestSchema, databaseUrl, TEST_ENV, type TestServer, testServerFrom } from "./test-server";

/**
 * examples/supergraph as a test runs it: the session API on a fresh schema with TEST_ENV, a key
 * ring of its own and `env`, plus the notes subgraph and the gateway. `server` is the session
 * API as a TestServer; its stop stops all three and drops the schema.
 */
export async function startTestSupergraph(
  env: Record<string, string>,
  options: Omit<Parameters<typeof startSupergraph>[0], "api"> & { apiPort?: number } = {},
): Promise<{ supergraph: Supergraph; server: TestServer }> {
  const { apiPort, ...rest } = options;
  const schema = await createTestSchema();
  const supergraph = await startSupergraph({
    ...rest,
    api: {
      env: { ...TEST_ENV, JWT_PRIVATE_KEYS: generateSigningKey("ES256"), ...env },
      port: apiPort,
      databaseUrl: databaseUrl(),
      dbSchema: schema.name,
    },
  });
  return { supergraph, server: await testServerFrom(supergraph.api.server, schema, () => supergraph.stop()) };
}
