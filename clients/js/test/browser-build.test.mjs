// The chat page's connection (local_server/static/client.js) is the package's browser build, as committed.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { ROOT } from "./servers.mjs";

test("local_server/static/client.js is what npm run build:browser builds", () => {
  const fresh = join(mkdtempSync(join(tmpdir(), "client-")), "client.js");
  execFileSync("npm", ["run", "--silent", "build:browser", "--", `--outfile=${fresh}`, "--log-level=warning"]);
  const committed = readFileSync(join(ROOT, "local_server/static/client.js"), "utf8");
  assert.equal(committed, readFileSync(fresh, "utf8"), "run `npm run build:browser` in clients/js and commit the result");
});
