import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Page } from "playwright-core";

const ROOT = path.join(__dirname, "..", "..");
/** Every run keeps its screenshots here, as test artifacts (git-ignored). */
export const SCREENSHOT_ARTIFACTS = path.join(ROOT, "test-results", "screenshots");
/** The copies the README shows; refreshed only on request, so a test run leaves the tree clean. */
const README_SCREENSHOTS = path.join(ROOT, "docs", "screenshots");

/** Saves a screenshot as an artifact, and over the README's copy when UPDATE_SCREENSHOTS=1. */
export async function keepScreenshot(page: Page, name: string, options: { fullPage?: boolean } = {}): Promise<void> {
  const image = await page.screenshot(options);
  const folders = [SCREENSHOT_ARTIFACTS, ...(process.env.UPDATE_SCREENSHOTS === "1" ? [README_SCREENSHOTS] : [])];
  for (const folder of folders) {
    await mkdir(folder, { recursive: true });
    await writeFile(path.join(folder, name), image);
  }
}
