/**
 * The web app's build: `npm run build:web` writes `web/dist`, which the cloud serves (src/cloud/http/web.ts).
 * `npm run dev:web` serves it with hot reload on :5173 and passes /api, /sim and /docs to a cloud on :8080.
 */
import { fileURLToPath } from "node:url";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

const cloud = process.env["TAPWALLET_CLOUD"] ?? "http://127.0.0.1:8080";

export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  plugins: [react()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    sourcemap: true,
    target: "es2022",
  },
  server: {
    port: 5173,
    proxy: { "/api": cloud, "/sim": cloud, "/docs": cloud },
  },
});
