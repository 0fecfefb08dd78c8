// Fails when the committed convex/_generated differs from what `convex codegen` makes now.
import { execFileSync } from "node:child_process";

execFileSync("npx", ["convex", "codegen", "--system-udfs", "--typecheck", "disable"], { stdio: "inherit" });
const changed = execFileSync("git", ["status", "--porcelain", "--", "convex/_generated"], {
  encoding: "utf8",
});
if (changed.trim() !== "") {
  console.error("convex/_generated is out of date; run `npm run codegen` and commit the result:\n" + changed);
  process.exit(1);
}
console.log("convex/_generated is current");
