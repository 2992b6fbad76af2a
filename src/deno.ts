/**
 * The read-only app under Deno:
 *   deno run --allow-net --allow-env --allow-read src/deno.ts
 * Settings from the environment (ODCS_DATABASE_URL of a libSQL server, …);
 * listens on HOST:PORT (default 0.0.0.0:8000).
 */
import { createReadOnlyHandler } from "./edge/read-only.ts";

declare const Deno: {
  env: { toObject(): Record<string, string> };
  serve(
    opts: { port: number; hostname: string; onListen?: (addr: { port: number }) => void },
    handler: (request: Request) => Promise<Response>,
  ): unknown;
};

const env = Deno.env.toObject();
const handler = createReadOnlyHandler(env);
Deno.serve(
  {
    port: Number(env.PORT ?? 8000),
    hostname: env.HOST ?? "0.0.0.0",
    onListen: ({ port }) =>
      console.log(JSON.stringify({ msg: "listening", runtime: "deno", port })),
  },
  (request) => handler(request),
);
