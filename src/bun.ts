/**
 * The read-only app under Bun:
 *   bun src/bun.ts
 * Settings from the environment (ODCS_DATABASE_URL of a libSQL server, …);
 * listens on HOST:PORT (default 0.0.0.0:8000).
 */
import { createReadOnlyHandler } from "./edge/read-only.ts";

declare const Bun: {
  env: Record<string, string | undefined>;
  serve(opts: { port: number; hostname: string; fetch: (request: Request) => Promise<Response> }): {
    port: number;
  };
};

const handler = createReadOnlyHandler(Bun.env);
const server = Bun.serve({
  port: Number(Bun.env.PORT ?? 8000),
  hostname: Bun.env.HOST ?? "0.0.0.0",
  fetch: (request) => handler(request),
});
console.log(JSON.stringify({ msg: "listening", runtime: "bun", port: server.port }));
