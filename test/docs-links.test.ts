import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

/**
 * Every relative link in the project's Markdown (README.md, docs/, the folder READMEs, and any
 * other tracked `.md`) must lead somewhere: to a file or folder that exists and, for
 * `file.md#anchor` or `#anchor`, to a heading of that file (GitHub's slugs) or an element with
 * that `id`/`name`. Web links (anything with a scheme: `https:`, `mailto:`) are not fetched.
 * Links inside code (fenced blocks, `inline code`) are not links.
 */
const ROOT = path.join(__dirname, "..");

/** The Markdown files git knows of, tracked or new but not ignored. */
function markdownFiles(root: string): string[] {
  const listed = execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", "*.md"], {
    cwd: root,
    encoding: "utf8",
  });
  const files = [...new Set(listed.split("\0").filter(Boolean))];
  return files.filter((file) => existsSync(path.join(root, file))).sort();
}

interface Link {
  line: number;
  target: string;
}

/**
 * The text of each line with fenced code blocks blanked, and inline code spans removed
 * (`codeSpans: "drop"`: code holds no links) or reduced to their text (`"text"`: a heading's).
 */
function proseLines(markdown: string, codeSpans: "drop" | "text" = "drop"): string[] {
  let fence: string | null = null;
  return markdown.split("\n").map((line) => {
    const opening = /^\s{0,3}(`{3,}|~{3,})/.exec(line);
    if (fence) {
      if (opening && opening[1][0] === fence[0] && opening[1].length >= fence.length && line.trim() === opening[1]) fence = null;
      return "";
    }
    if (opening) {
      fence = opening[1];
      return "";
    }
    return line.replace(/(`+)([^`]*?)\1/g, (_span, _ticks, code: string) => (codeSpans === "text" ? code : ""));
  });
}

/** Inline links and images `[text](target "title")`, and reference definitions `[label]: target`. */
function linksIn(markdown: string): Link[] {
  const links: Link[] = [];
  proseLines(markdown).forEach((text, index) => {
    const line = index + 1;
    for (const match of text.matchAll(/\]\(\s*(<[^>]*>|[^\s)]+)(?:\s+"[^"]*")?\s*\)/g)) {
      links.push({ line, target: match[1].replace(/^<|>$/g, "") });
    }
    const definition = /^\s{0,3}\[[^\]]+\]:\s*(<[^>]*>|\S+)/.exec(text);
    if (definition) links.push({ line, target: definition[1].replace(/^<|>$/g, "") });
  });
  return links;
}

/** GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens; repeats get -1, -2, ... */
function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const counts = new Map<string, number>();
  for (const text of proseLines(markdown, "text")) {
    const heading = /^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$/.exec(text);
    if (heading) {
      const visible = heading[1]
        .replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1")
        .replace(/<[^>]+>/g, "")
        .replace(/[*~]/g, "");
      const slug = visible
        .toLowerCase()
        .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, "")
        .replace(/ /g, "-");
      const seen = counts.get(slug) ?? 0;
      counts.set(slug, seen + 1);
      anchors.add(seen === 0 ? slug : `${slug}-${seen}`);
    }
    for (const match of text.matchAll(/<[a-z][^>]*\s(?:id|name)="([^"]+)"/gi)) anchors.add(match[1]);
  }
  return anchors;
}

/** Each broken relative link of the Markdown files `files` (paths relative to `root`), as `file:line → target: why`. */
function brokenLinks(root: string, files: readonly string[]): string[] {
  const anchorsOf = new Map<string, Set<string>>();
  const anchors = (file: string) => {
    let found = anchorsOf.get(file);
    if (!found) anchorsOf.set(file, (found = headingAnchors(readFileSync(file, "utf8"))));
    return found;
  };
  const broken: string[] = [];
  for (const file of files) {
    const source = path.join(root, file);
    for (const { line, target } of linksIn(readFileSync(source, "utf8"))) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue;
      const hash = target.indexOf("#");
      const filePart = decodeURIComponent(hash < 0 ? target : target.slice(0, hash));
      const anchor = hash < 0 ? null : decodeURIComponent(target.slice(hash + 1));
      const resolved = filePart === "" ? source : path.resolve(path.dirname(source), filePart);
      const where = `${file}:${line} → ${target}`;
      const inside = !path.relative(root, resolved).split(path.sep).includes("..");
      if (!inside) {
        broken.push(`${where}: outside the repository`);
      } else if (!existsSync(resolved)) {
        broken.push(`${where}: no such file`);
      } else if (anchor !== null && resolved.endsWith(".md") && statSync(resolved).isFile() && !anchors(resolved).has(anchor)) {
        broken.push(`${where}: no heading #${anchor} in ${path.relative(root, resolved)}`);
      }
    }
  }
  return broken;
}

describe("links in the Markdown", () => {
  it("lead every relative link to an existing file, and every #anchor to a heading of it", () => {
    const files = markdownFiles(ROOT);
    expect(files).toContain("README.md");
    expect(brokenLinks(ROOT, files)).toEqual([]);
  });

  it("are checked by a rule that flags a missing file and a missing heading, and leaves web links and code alone", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "docs-links-"));
    try {
      writeFileSync(
        path.join(dir, "guide.md"),
        [
          "# A guide",
          "## Errors: the `extensions.code` table",
          "## Errors: the `extensions.code` table",
          "[ok](other.md#status-codes) [ok](#errors-the-extensionscode-table-1) [ok](#a-guide) [web](https://example.com/nope)",
          "[gone](missing.md) [no heading](other.md#nothing-here) ![picture](img/none.png)",
          "`[in code](missing-too.md)`",
          "```",
          "[in a block](missing-three.md)",
          "```",
          "[ref]: ./other.md",
        ].join("\n"),
      );
      writeFileSync(path.join(dir, "other.md"), "# Other\n\n### Status codes\n");
      expect(brokenLinks(dir, ["guide.md", "other.md"])).toEqual([
        "guide.md:5 → missing.md: no such file",
        "guide.md:5 → other.md#nothing-here: no heading #nothing-here in other.md",
        "guide.md:5 → img/none.png: no such file",
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
