/**
 * Where the session API's /graphql endpoint is. A server that serves the built app may name it
 * in a `<meta name="session-api-url">` tag (the browser tests do: their API port is picked at
 * run time); otherwise the build-time VITE_API_URL, which `npm run example` sets.
 */
export function apiUrl(): string {
  const meta = document.querySelector<HTMLMetaElement>('meta[name="session-api-url"]')?.content;
  return meta || import.meta.env.VITE_API_URL || "http://localhost:4000/graphql";
}
