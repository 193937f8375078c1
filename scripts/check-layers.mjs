#!/usr/bin/env node
// Fails when a workspace package imports (or depends on) a @clawkeep package above or beside it.
// The layers are the ones drawn in docs/architecture.md; an arrow only points down.
import { readdir, readFile } from "node:fs/promises";
import { dirname, join, relative, resolve, sep } from "node:path";

const root = new URL("..", import.meta.url).pathname;

/** What each package may import from the workspace. Apps may import every package. */
const allowed = {
  "@clawkeep/schema": [],
  "@clawkeep/store": ["@clawkeep/schema"],
  "@clawkeep/transcripts": ["@clawkeep/schema", "@clawkeep/store"],
  "@clawkeep/session-utils": ["@clawkeep/schema", "@clawkeep/store", "@clawkeep/transcripts"],
  "@clawkeep/gateway-methods": [
    "@clawkeep/schema",
    "@clawkeep/store",
    "@clawkeep/transcripts",
    "@clawkeep/session-utils",
  ],
  "@clawkeep/maintenance": [
    "@clawkeep/schema",
    "@clawkeep/store",
    "@clawkeep/transcripts",
    "@clawkeep/session-utils",
  ],
  "@clawkeep/gateway-client": ["@clawkeep/schema"],
};
/** Available to every workspace in tests only. */
const testOnly = ["@clawkeep/test-utils"];

const importPattern =
  /(?:from\s+|import\s*\(\s*|import\s+)["'](@clawkeep\/[a-z0-9-]+)(?:\/[^"']*)?["']/g;
const relativeImportPattern = /(?:from\s+|import\s*\(\s*|import\s+)["'](\.{1,2}\/[^"']*)["']/g;

async function listWorkspaces() {
  const result = [];
  for (const group of ["packages", "apps", "tools"]) {
    let names = [];
    try {
      names = await readdir(join(root, group));
    } catch (error) {
      if (error.code === "ENOENT") continue;
      throw error;
    }
    for (const name of names) {
      const dir = join(root, group, name);
      try {
        const manifest = JSON.parse(await readFile(join(dir, "package.json"), "utf8"));
        result.push({ dir, group, manifest });
      } catch (error) {
        if (error.code === "ENOENT") continue;
        throw error;
      }
    }
  }
  return result;
}

async function listSourceFiles(dir) {
  const files = [];
  let entries = [];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    if (error.code === "ENOENT") return files;
    throw error;
  }
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== "node_modules" && entry.name !== "dist")
        files.push(...(await listSourceFiles(path)));
    } else if (/\.(m?[jt]s)$/.test(entry.name)) {
      files.push(path);
    }
  }
  return files;
}

const isTestFile = (path) => /\.(test|bench)\.ts$|__fixtures__|\/testing\//.test(path);

const problems = [];
for (const { dir, group, manifest } of await listWorkspaces()) {
  const name = manifest.name;
  if (group === "tools") continue;
  const mayImport =
    group === "apps"
      ? Object.keys(allowed)
      : (allowed[name] ??
        problems.push(`${name}: not a known layer; add it to scripts/check-layers.mjs`));
  if (!Array.isArray(mayImport)) continue;
  const runtimeDeps = { ...manifest.dependencies, ...manifest.peerDependencies };
  for (const dep of Object.keys(runtimeDeps)) {
    if (dep.startsWith("@clawkeep/") && !mayImport.includes(dep)) {
      problems.push(`${name}: package.json depends on ${dep}, which is above or beside it`);
    }
  }
  for (const file of await listSourceFiles(join(dir, "src"))) {
    const text = await readFile(file, "utf8");
    for (const match of text.matchAll(importPattern)) {
      const target = match[1];
      if (target === name) continue;
      if (mayImport.includes(target)) continue;
      if (testOnly.includes(target) && isTestFile(file)) continue;
      problems.push(`${relative(root, file)}: imports ${target}, which ${name} may not import`);
    }
    // A relative path into another workspace would bypass the layers: imports between
    // workspaces go through package names only.
    for (const match of text.matchAll(relativeImportPattern)) {
      const target = resolve(dirname(file), match[1]);
      if (target !== dir && !target.startsWith(`${dir}${sep}`)) {
        problems.push(`${relative(root, file)}: imports ${match[1]}, outside ${name}`);
      }
    }
  }
}

if (problems.length > 0) {
  console.error(`layer check failed (${problems.length}):`);
  for (const problem of problems) console.error(`  ${problem}`);
  process.exit(1);
}
console.log("layer check passed");
