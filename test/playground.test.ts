import type { Browser, Page } from "playwright-core";
import { LogoutDocument } from "./gql/graphql";
import { type IsolatedPage, launchBrowser, openPage } from "./support/browser";
import { startTestServer, type TestServer } from "./support/test-server";
import { signIn, signUp } from "./support/users";

/**
 * The development playground, in a real headless Chromium that may reach nothing but this
 * server: every request to another origin is aborted and recorded, and none may be attempted.
 */
let server: TestServer;
let browser: Browser;
let origin: string;
beforeAll(async () => {
  [server, browser] = await Promise.all([startTestServer({ NODE_ENV: "development" }), launchBrowser()]);
  origin = new URL(server.url).origin;
});
afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

let tab: IsolatedPage;
beforeEach(async () => {
  tab = await openPage(browser, [origin]);
});
afterEach(() => tab.close());

/** Replaces the text of one of GraphiQL's editors by typing, as a person would. */
async function typeInto(page: Page, editor: string, text: string) {
  await page.locator(`${editor} .CodeMirror`).first().click();
  await page.keyboard.press("Control+A");
  await page.keyboard.press("Backspace");
  // Typed, with the editor's bracket auto-closing: a typed closer steps over the inserted one.
  await page.keyboard.type(text);
  // GraphiQL re-reads the query 100 ms after the last keystroke (a debounce); a person pauses
  // longer than that before pressing Run.
  await page.waitForTimeout(300);
}

/** The open one of the Variables / Headers editors under the query. */
const HEADERS_EDITOR = ".graphiql-editor-tool .graphiql-editor:not(.hidden)";

async function run(page: Page) {
  await page.locator(".graphiql-execute-button").click();
}

const response = (page: Page) => page.locator(".graphiql-response .CodeMirror");

/** Waits until the result pane shows `text`. */
async function shows(page: Page, text: string) {
  await response(page)
    .filter({ hasText: text })
    .waitFor({ timeout: 10_000 })
    .catch(async () => {
      throw new Error(`the result pane never showed ${text}; it shows: ${await response(page).textContent()}`);
    });
}

describe("the development playground", () => {
  it("is GraphiQL, served by this server alone, under a CSP that allows no other host", async () => {
    const res = await fetch(server.url, { headers: { accept: "text/html" } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    const csp = res.headers.get("content-security-policy")!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toMatch(/https?:|\*/);

    const page = await tab.page.goto(server.url);
    expect(page?.status()).toBe(200);
    await tab.page.locator(".graphiql-query-editor .CodeMirror").first().waitFor();
    expect(await tab.page.title()).toBe("Session API playground");
    // The schema arrived (introspection, over HTTP): the docs explorer can open.
    await tab.page.locator('button[aria-label="Show Documentation Explorer"]').click();
    await tab.page.locator(".graphiql-doc-explorer").getByText("Query", { exact: true }).first().waitFor();
    expect(tab.offOrigin).toEqual([]);
    expect(tab.errors).toEqual([]);
  });

  it("runs a typed query with the Authorization header set in its headers editor", async () => {
    const user = await signUp(server);
    const { page } = tab;
    await page.goto(server.url);
    await typeInto(page, ".graphiql-query-editor", "{ me { email } }");
    await run(page);
    await shows(page, '"reason": "TOKEN_MISSING"');

    // The headers editor is open by default; a token typed there is sent with the next run.
    await typeInto(page, HEADERS_EDITOR, `{"Authorization": "Bearer ${user.accessToken}`);
    await run(page);
    await shows(page, `"email": "${user.email}"`);
    expect(tab.offOrigin).toEqual([]);
    // The signed-out run's HTTP status is logged by Chromium; no script failed.
    expect(tab.errors.filter((e) => !e.startsWith("Failed to load resource"))).toEqual([]);
  });

  it("runs a subscription over graphql-ws, authenticated by the same header", async () => {
    const user = await signUp(server);
    const { page } = tab;
    const sockets: string[] = [];
    page.on("websocket", (ws) => sockets.push(ws.url()));
    await page.goto(server.url);
    await typeInto(page, HEADERS_EDITOR, `{"Authorization": "Bearer ${user.accessToken}`);
    await typeInto(page, ".graphiql-query-editor", "subscription { sessionRevoked { reason current } }");
    await run(page);

    // Another device logs out; the playground hears it. The socket may still be subscribing
    // when the first one goes, so a few devices log out until one event has arrived.
    const heard = response(page).filter({ hasText: '"reason": "LOGOUT"' });
    for (let attempt = 0; attempt < 10 && !(await heard.count()); attempt++) {
      const other = await signIn(server, user.email);
      await server.request(LogoutDocument, {}, { token: other.accessToken });
      await heard.waitFor({ timeout: 1000 }).catch(() => undefined);
    }
    await shows(page, '"current": false');
    expect(sockets).toEqual([server.wsUrl]);
    expect(tab.offOrigin).toEqual([]);
    expect(tab.errors).toEqual([]);
  });
});

describe("in production", () => {
  it("serves no playground", async () => {
    const production = await startTestServer({ NODE_ENV: "production", PASSWORD_HASH_COST: "17" });
    try {
      const res = await fetch(production.url, { headers: { accept: "text/html" } });
      expect(res.headers.get("content-type")).not.toMatch(/html/);
      expect(await res.text()).not.toMatch(/graphiql/i);
      expect((await fetch(production.url.replace("/graphql", "/playground/graphiql.js"))).status).toBe(404);
    } finally {
      await production.stop();
    }
  });
});
