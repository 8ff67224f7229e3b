import { writeFileSync } from "node:fs";
import path from "node:path";
import { composeSupergraph } from "./compose";
import { PORTS, SUPERGRAPH_FILE } from "./ports";

/**
 * The build step of `npm run example:supergraph`: composes the supergraph from the subgraphs'
 * own SDL, with the example's ports, and writes it for the gateway. A composition error fails the build.
 */
async function main() {
  const supergraph = await composeSupergraph({
    sessionApiUrl: `http://127.0.0.1:${PORTS.sessionApi}/graphql`,
    notesUrl: `http://127.0.0.1:${PORTS.notes}/`,
  });
  const file = path.join(__dirname, "..", "..", "..", "..", SUPERGRAPH_FILE);
  writeFileSync(file, supergraph);
  console.log(`composed ${path.relative(process.cwd(), file)}`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
