import { defineConfig } from "vite";

// No React plugin: the app needs JSX only (no Fast Refresh), which Vite's own transform does.
export default defineConfig({
  oxc: { jsx: { runtime: "automatic" } },
  server: { port: Number(process.env.EXAMPLE_PORT ?? 5173), strictPort: true, host: "localhost" },
  build: { outDir: "dist", emptyOutDir: true, sourcemap: true },
});
