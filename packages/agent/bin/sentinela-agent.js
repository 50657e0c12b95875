#!/usr/bin/env node
// Committed launcher, so that npm links the command at install time, before the first build.
// The one-shot verbs (restore, verify, drill, backup…) start from the bundle that `npm run build`
// makes (tools/bundle-agent.mjs): ~0.2 CPU-s less than loading ~210 modules. `run`, the
// long-running agent, and a tree built without the bundle use dist/cli/main.js.
import { existsSync } from "node:fs";

const bundle = new URL("../dist/bundle/sentinela-agent.mjs", import.meta.url);
await import(process.argv[2] !== "run" && existsSync(bundle) ? bundle.href : "../dist/cli/main.js");
