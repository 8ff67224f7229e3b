/** Tests run the real server against a real PostgreSQL; each file gets its own schema and port. */
const swc = {
  jsc: {
    parser: { syntax: "typescript", decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
    target: "es2022",
  },
  module: { type: "commonjs" },
  sourceMaps: "inline",
};

/** What both projects share: how a test file is compiled and what it may import. */
const project = {
  testEnvironment: "node",
  roots: ["<rootDir>/test"],
  // jose (an ESM-only package) is compiled for the tests like our own source.
  transform: { "^.+\\.ts$": ["@swc/jest", swc], "/node_modules/jose/.+\\.js$": ["@swc/jest", swc] },
  transformIgnorePatterns: ["/node_modules/(?!jose/)"],
  // The client SDK is ESM source whose relative imports name the emitted file ("./errors.js");
  // the tests run that source itself, so point such imports back at the .ts file.
  // The examples import the packages by name ("session-api", "@session-api/backend"): the tests
  // run their source, so that one copy of the TypeGraphQL types is loaded.
  // The same for @session-api/backend as imported by examples/notes-api: its source, not its dist.
  moduleNameMapper: {
    "^(\\.{1,2}/.*)\\.js$": "$1",
    "^session-api$": "<rootDir>/src/index.ts",
    "^@session-api/backend$": "<rootDir>/backend/src/index.ts",
    "^@session-api/backend/(yoga|apollo)$": "<rootDir>/backend/src/$1.ts",
  },
  setupFiles: ["reflect-metadata"],
};

module.exports = {
  globalSetup: "<rootDir>/test/support/global-setup.ts",
  globalTeardown: "<rootDir>/test/support/global-teardown.ts",
  // Files are independent (own schema, own port), so run them side by side; most time is I/O.
  maxWorkers: 3,
  testTimeout: 30000,
  projects: [
    { ...project, displayName: "api", testMatch: ["**/*.test.ts"] },
    // The example app's browser tests once more, pointed at examples/supergraph's gateway
    // (test/support/browser-suite.ts). Not the restart test: it restarts the API the page talks
    // to on the same port, which through the gateway would be another test (the gateway's own
    // upstream reconnect), not the same one.
    {
      ...project,
      displayName: "browser through the gateway",
      testMatch: ["<rootDir>/test/browser/**/*.test.ts"],
      testPathIgnorePatterns: ["/node_modules/", "/test/browser/server-restart\\.test\\.ts$"],
      setupFiles: [...project.setupFiles, "<rootDir>/test/support/through-gateway.ts"],
    },
  ],
};
