import { readFileSync } from "node:fs";
import path from "node:path";
import { CONFIG_VARIABLES } from "../src/config/environment";

const ROOT = path.join(__dirname, "..");

/** The variables `.env.example` sets, commented-out ones included. */
function templateVariables(): string[] {
  const text = readFileSync(path.join(ROOT, ".env.example"), "utf8");
  return [...text.matchAll(/^#?\s*([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]);
}

/** The variables named in the first column of the README's "Configuration" table. */
function readmeVariables(): string[] {
  const text = readFileSync(path.join(ROOT, "README.md"), "utf8");
  const section = text.split(/^## /m).find((part) => part.startsWith("Configuration"));
  if (!section) return [];
  return section
    .split("\n")
    .filter((line) => line.startsWith("| `"))
    .flatMap((line) => [...line.split("|")[1].matchAll(/`([A-Z][A-Z0-9_]*)`/g)].map((m) => m[1]));
}

/**
 * Variables the config reads that the README's table does not describe yet. Each must really
 * be missing there (the last test), so the list shrinks as the README catches up.
 */
const NOT_YET_IN_README: string[] = [];

const sorted = (names: Iterable<string>) => [...new Set(names)].sort();

describe("the configuration's three lists", () => {
  it("has .env.example set exactly the variables the config schema reads", () => {
    expect(sorted(templateVariables())).toEqual(sorted(CONFIG_VARIABLES));
  });

  it("has the README's configuration table describe exactly the variables the config schema reads", () => {
    expect(sorted([...readmeVariables(), ...NOT_YET_IN_README])).toEqual(sorted(CONFIG_VARIABLES));
  });

  it("lists as not yet in the README only variables the README's table really lacks", () => {
    const described = new Set(readmeVariables());
    expect(NOT_YET_IN_README.filter((name) => described.has(name))).toEqual([]);
  });
});
