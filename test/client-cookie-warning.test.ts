import { createSessionClient } from "../client/src/index";

/**
 * Cookie mode with the page and the API on different host names loses the refresh cookie
 * silently (SameSite=Strict): the SDK says so once, on a development page (a loopback address).
 */
const globals = globalThis as { location?: { href: string } };
let warnings: string[] = [];
// biome-ignore lint/suspicious/noConsole: the test replaces the console's warn to read what the SDK says
const originalWarn = console.warn;
beforeEach(() => {
  warnings = [];
  console.warn = (message: string) => void warnings.push(message);
});
afterEach(() => {
  console.warn = originalWarn;
  delete globals.location;
});

function clientOn(page: string, api: string) {
  globals.location = { href: page };
  createSessionClient({ url: api, transport: "cookie", live: false, crossTab: false }).dispose();
}

// Before the warning below: it is given once per page, so later calls could not show it.
it("says nothing in memory mode, where no cookie is involved", () => {
  globals.location = { href: "http://localhost:5173/" };
  createSessionClient({ url: "http://127.0.0.1:4000/graphql", transport: "memory", live: false }).dispose();
  expect(warnings).toEqual([]);
});

it("stays quiet when the page and the API share a host name, or on a deployed page", () => {
  clientOn("http://localhost:5173/", "http://localhost:4000/graphql");
  clientOn("http://localhost:5173/", "/graphql");
  clientOn("https://app.example.com/", "https://api.example.com/graphql");
  clientOn("https://app.example.com/", "https://api.other.test/graphql");
  expect(warnings).toEqual([]);
});

it("warns once, naming both host names, when a development page calls the API on another", () => {
  clientOn("http://localhost:5173/", "http://127.0.0.1:4000/graphql");
  clientOn("http://localhost:5173/", "http://127.0.0.1:4000/graphql");
  expect(warnings).toEqual([expect.stringContaining("the page on localhost and the API on 127.0.0.1")]);
});
