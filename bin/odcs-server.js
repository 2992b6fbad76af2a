#!/usr/bin/env node
// Runs the API server (API + compose file server + expiry sweep), no worker.
import { register } from "tsx/esm/api";

register();
await import("../src/server.ts");
