import { readFileSync } from "node:fs";
import path from "node:path";
import semver from "semver";

/**
 * `npm ci` warns (EBADENGINE) for every installed package whose `engines.node` rejects the
 * running Node. The lock file records each package's `engines`, so this checks what `npm ci`
 * would, for the oldest Node that package.json accepts and for the one running the tests.
 */
const root = path.join(__dirname, "..");
const manifest = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as { engines: { node: string } };
const lock = JSON.parse(readFileSync(path.join(root, "package-lock.json"), "utf8")) as {
  packages: Record<string, { version?: string; engines?: unknown }>;
};

const oldestSupported = semver.minVersion(manifest.engines.node)!.version;

function rejecting(nodeVersion: string): string[] {
  return Object.entries(lock.packages).flatMap(([where, entry]) => {
    const range = (entry.engines as { node?: unknown } | undefined)?.node;
    if (where === "" || typeof range !== "string") return [];
    return semver.satisfies(nodeVersion, range) ? [] : [`${where}@${entry.version} needs node ${range}`];
  });
}

describe("engines", () => {
  it.each([
    ["the oldest Node that package.json declares", oldestSupported],
    ["the Node running the tests", process.version],
  ])("every locked package accepts %s (%s), so npm ci prints no EBADENGINE", (_what, version) => {
    expect(rejecting(version)).toEqual([]);
  });

  it("declares a Node the running one satisfies", () => {
    expect(semver.satisfies(process.version, manifest.engines.node)).toBe(true);
  });
});
