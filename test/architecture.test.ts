import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import ts from "typescript";

/**
 * The folder-level rule of docs/ARCHITECTURE.md: the core never imports an adapter. A domain
 * folder imports no transport and not the composition root; the one exception is a feature's
 * GraphQL face (its `*.resolver.ts` and `*.type.ts`), which may use `graphql/`.
 */
const SRC = path.join(__dirname, "..", "src");
const DOMAINS = ["sessions", "auth", "users", "security", "audit-log", "admin", "service-keys"];
const TRANSPORTS = ["http", "live", "graphql"];
const COMPOSITION = ["app", "main.ts"];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith(".ts") ? [full] : [];
  });
}

/** Every relative module a file imports or re-exports, `import type` included. */
function relativeImports(file: string): string[] {
  const { importedFiles } = ts.preProcessFile(readFileSync(file, "utf8"), true, true);
  return importedFiles.map((f) => f.fileName).filter((name) => name.startsWith("."));
}

interface SourceFile {
  /** Relative to src/. */
  file: string;
  imports: string[];
}

function ruleViolations(files: readonly SourceFile[]): string[] {
  const found: string[] = [];
  for (const { file, imports } of files) {
    const from = file.split("/")[0];
    if (!DOMAINS.includes(from)) continue;
    const face = /\.(resolver|type)\.ts$/.test(file);
    for (const specifier of imports) {
      const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), specifier)).split("/")[0];
      if (face && target === "graphql") continue;
      if (TRANSPORTS.includes(target) || COMPOSITION.includes(target) || COMPOSITION.includes(`${target}.ts`)) {
        found.push(`${file} imports ${specifier}`);
      }
    }
  }
  return found;
}

function sourceTree(): SourceFile[] {
  return sourceFiles(SRC).map((full) => ({
    file: path.relative(SRC, full).split(path.sep).join("/"),
    imports: relativeImports(full),
  }));
}

describe("the folder-level import rule", () => {
  it("finds no domain folder importing a transport or the composition root, outside a feature's GraphQL face", () => {
    expect(ruleViolations(sourceTree())).toEqual([]);
  });

  it("flags a domain file that imports a transport or the composition root, and lets a GraphQL face use graphql/ only", () => {
    expect(
      ruleViolations([
        { file: "sessions/session.service.ts", imports: ["../live/live-connections", "./session.store", "../lib/invariant"] },
        { file: "sessions/revocation/wire-revocations.ts", imports: ["../../app/services", "../../main"] },
        { file: "auth/auth.resolver.ts", imports: ["../graphql/context", "../http/request-actor"] },
        { file: "users/user.type.ts", imports: ["../graphql/scalars"] },
        { file: "graphql/context.ts", imports: ["../sessions/validate-session"] },
      ]),
    ).toEqual([
      "sessions/session.service.ts imports ../live/live-connections",
      "sessions/revocation/wire-revocations.ts imports ../../app/services",
      "sessions/revocation/wire-revocations.ts imports ../../main",
      "auth/auth.resolver.ts imports ../http/request-actor",
    ]);
  });
});
