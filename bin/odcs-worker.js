#!/usr/bin/env node
// Runs one compose worker against ODCS_DATABASE_URL.
import { register } from "tsx/esm/api";

register();
await import("../src/worker.ts");
