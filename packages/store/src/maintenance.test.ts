import { readdirSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { SessionEntry, SessionStore } from "@clawkeep/schema";
import { testdir } from "@clawkeep/test-utils";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { SessionMaintenanceWarning } from "./maintenance.ts";
import {
  capEntryCount,
  parseByteSize,
  parseDurationMs,
  parseMaintenanceConfig,
  pruneStaleEntries,
  rotateSessionFile,
} from "./maintenance.ts";
import {
  invalidateSessionStoreCache,
  loadSessionStore,
  saveSessionStore,
  updateSessionStoreEntry,
} from "./session-store-api.ts";

const DAY = 86_400_000;
const NOW = 1_800_000_000_000;
const now = () => NOW;

afterEach(() => {
  invalidateSessionStoreCache();
});

function entry(sessionId: string, updatedAt?: number): SessionEntry {
  return (updatedAt === undefined ? { sessionId } : { sessionId, updatedAt }) as SessionEntry;
}

function aged(days: number): SessionEntry {
  return entry(`s-${days}`, NOW - days * DAY);
}

describe("pruneStaleEntries", () => {
  it("removes entries older than 30 days and keeps a 1-day-old one (#112)", () => {
    const store: SessionStore = { old: aged(31), fresh: aged(1) };
    expect(pruneStaleEntries(store, { pruneAfterMs: 30 * DAY, now })).toBe(1);
    expect(Object.keys(store)).toEqual(["fresh"]);
  });

  it("keeps 0, 1 and 6 day old entries with a 7-day window (#113)", () => {
    const store: SessionStore = { a: aged(0), b: aged(1), c: aged(6) };
    expect(pruneStaleEntries(store, { pruneAfterMs: 7 * DAY, now })).toBe(0);
    expect(Object.keys(store)).toHaveLength(3);
  });

  it("keeps entries without updatedAt (#114)", () => {
    const store: SessionStore = { undated: entry("s-u"), old: aged(40) };
    expect(pruneStaleEntries(store, { now })).toBe(1);
    expect(Object.keys(store)).toEqual(["undated"]);
  });

  it("can empty the store (#115)", () => {
    const store: SessionStore = { a: aged(40), b: aged(50), c: aged(60) };
    expect(pruneStaleEntries(store, { pruneAfterMs: 7 * DAY, now })).toBe(3);
    expect(store).toEqual({});
  });

  it("defaults to 30 days (#116)", () => {
    const store: SessionStore = { old: aged(31), young: aged(29) };
    expect(pruneStaleEntries(store, { now })).toBe(1);
    expect(Object.keys(store)).toEqual(["young"]);
  });

  it("never removes a protected key", () => {
    const store: SessionStore = { main: aged(90), old: aged(90) };
    expect(pruneStaleEntries(store, { now, protectedKeys: ["main"] })).toBe(1);
    expect(Object.keys(store)).toEqual(["main"]);
  });
});

describe("capEntryCount", () => {
  it("keeps the 3 newest of 5 (#117)", () => {
    const store: SessionStore = { a: aged(5), b: aged(1), c: aged(4), d: aged(2), e: aged(3) };
    expect(capEntryCount(store, { maxEntries: 3 })).toBe(2);
    expect(Object.keys(store).sort()).toEqual(["b", "d", "e"]);
  });

  it("removes nothing when under the cap (#118)", () => {
    const store: SessionStore = { a: aged(1), b: aged(2) };
    expect(capEntryCount(store, { maxEntries: 10 })).toBe(0);
  });

  it("removes undated entries first (#119)", () => {
    const store: SessionStore = { u1: entry("u1"), d1: aged(3), u2: entry("u2"), d2: aged(2) };
    expect(capEntryCount(store, { maxEntries: 2 })).toBe(2);
    expect(Object.keys(store).sort()).toEqual(["d1", "d2"]);
  });

  it("caps at 500 by default, removing only the oldest of 501 (#120)", () => {
    const store: SessionStore = {};
    for (let index = 0; index < 501; index += 1)
      store[`k${index}`] = entry(`s${index}`, NOW - index);
    expect(capEntryCount(store)).toBe(1);
    expect(store.k500).toBeUndefined();
    expect(Object.keys(store)).toHaveLength(500);
  });

  it("keeps protected keys, which take their slots first", () => {
    const store: SessionStore = { main: aged(100), a: aged(1), b: aged(2), c: aged(3) };
    expect(capEntryCount(store, { maxEntries: 2, protectedKeys: ["main"] })).toBe(2);
    expect(Object.keys(store).sort()).toEqual(["a", "main"]);
  });
});

describe("rotateSessionFile", () => {
  it("does not rotate a file under the limit (#121)", async () => {
    const dir = await testdir({ "sessions.json": "x".repeat(500) });
    expect(await rotateSessionFile(join(dir, "sessions.json"), { rotateBytes: 1000 })).toBe(false);
    expect(readdirSync(dir)).toEqual(["sessions.json"]);
  });

  it("moves a file over the limit to one sessions.json.bak.<epochMs> (#122, #125)", async () => {
    const dir = await testdir({ "sessions.json": "y".repeat(200) });
    const before = Date.now();
    expect(await rotateSessionFile(join(dir, "sessions.json"), { rotateBytes: 100 })).toBe(true);
    const after = Date.now();
    const names = readdirSync(dir);
    expect(names).toHaveLength(1);
    const suffix = Number((names[0] as string).replace("sessions.json.bak.", ""));
    expect(suffix).toBeGreaterThanOrEqual(before);
    expect(suffix).toBeLessThanOrEqual(after);
    expect(await readFile(join(dir, names[0] as string), "utf8")).toBe("y".repeat(200));
  });

  it("keeps at most 3 backups over five rotations (#123)", async () => {
    const dir = await testdir();
    let clock = NOW;
    for (let round = 0; round < 5; round += 1) {
      await writeFile(join(dir, "sessions.json"), `${round}`.repeat(200));
      clock += 1;
      await rotateSessionFile(join(dir, "sessions.json"), { rotateBytes: 100, now: () => clock });
    }
    const backups = readdirSync(dir).sort();
    expect(backups).toEqual([
      `sessions.json.bak.${NOW + 3}`,
      `sessions.json.bak.${NOW + 4}`,
      `sessions.json.bak.${NOW + 5}`,
    ]);
  });

  it("names the full path of a backup it cannot remove", async () => {
    const dir = await testdir();
    // A directory under a backup's name cannot be unlinked (EISDIR), and is the oldest.
    const stuck = join(dir, `sessions.json.bak.${NOW - 10}`);
    await mkdir(stuck);
    for (const suffix of [NOW - 3, NOW - 2, NOW - 1]) {
      await writeFile(join(dir, `sessions.json.bak.${suffix}`), "old");
    }
    await writeFile(join(dir, "sessions.json"), "x".repeat(200));
    const error = await rotateSessionFile(join(dir, "sessions.json"), {
      rotateBytes: 100,
      now,
    }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: "STORE_IO", details: { path: stuck } });
    expect((error as Error).message).toContain(stuck);
  });

  it("does nothing for a missing file (#124)", async () => {
    const dir = await testdir();
    expect(await rotateSessionFile(join(dir, "sessions.json"), { rotateBytes: 1 })).toBe(false);
  });

  it("can keep the original in place for an atomic replacement", async () => {
    const dir = await testdir({ "sessions.json": "z".repeat(200) });
    expect(
      await rotateSessionFile(join(dir, "sessions.json"), { rotateBytes: 100, keepOriginal: true }),
    ).toBe(true);
    expect(readdirSync(dir)).toHaveLength(2);
    expect(await readFile(join(dir, "sessions.json"), "utf8")).toBe("z".repeat(200));
  });
});

describe("parseMaintenanceConfig", () => {
  it("parses durations and sizes with units (#130)", () => {
    expect(
      parseMaintenanceConfig({ pruneAfter: "7d", maxEntries: 100, rotateBytes: "5mb" }),
    ).toEqual({
      mode: "warn",
      pruneAfterMs: 7 * DAY,
      maxEntries: 100,
      rotateBytes: 5_242_880,
    });
  });

  it("applies defaults to what is missing (#131)", () => {
    expect(parseMaintenanceConfig({ pruneAfter: "14d" })).toEqual({
      mode: "warn",
      pruneAfterMs: 14 * DAY,
      maxEntries: 500,
      rotateBytes: 10_485_760,
    });
    expect(parseMaintenanceConfig(undefined)).toEqual({
      mode: "warn",
      pruneAfterMs: 30 * DAY,
      maxEntries: 500,
      rotateBytes: 10_485_760,
    });
  });

  it("uses the deprecated pruneDays only without pruneAfter (#132)", () => {
    expect(parseMaintenanceConfig({ pruneDays: 2 }).pruneAfterMs).toBe(2 * DAY);
    expect(parseMaintenanceConfig({ pruneDays: 2, pruneAfter: "1h" }).pruneAfterMs).toBe(3_600_000);
    expect(parseMaintenanceConfig({ pruneDays: 2, pruneAfter: "soon" }).pruneAfterMs).toBe(
      30 * DAY,
    );
  });

  it("accepts enforce and falls back to defaults for invalid values", () => {
    expect(
      parseMaintenanceConfig({
        mode: "enforce",
        pruneAfter: "-3d",
        rotateBytes: "lots",
        maxEntries: "9",
      }),
    ).toEqual({
      mode: "enforce",
      pruneAfterMs: 30 * DAY,
      maxEntries: 500,
      rotateBytes: 10_485_760,
    });
    expect(parseMaintenanceConfig({ mode: "other" }).mode).toBe("warn");
  });

  it("parses every duration unit, decimals and the default unit", () => {
    expect(parseDurationMs("1.5h")).toBe(5_400_000);
    expect(parseDurationMs("250ms")).toBe(250);
    expect(parseDurationMs("30s")).toBe(30_000);
    expect(parseDurationMs("2m")).toBe(120_000);
    expect(parseDurationMs("3")).toBe(3 * DAY);
    expect(parseDurationMs(0.5)).toBe(DAY / 2);
    expect(parseDurationMs("3", "h")).toBe(3 * 3_600_000);
    expect(parseDurationMs("7 D")).toBe(7 * DAY);
    expect(parseDurationMs("7w")).toBeUndefined();
  });

  it("parses binary sizes in any case", () => {
    expect(parseByteSize("100b")).toBe(100);
    expect(parseByteSize("1K")).toBe(1024);
    expect(parseByteSize("1.5kb")).toBe(1536);
    expect(parseByteSize("2G")).toBe(2 * 1024 ** 3);
    expect(parseByteSize("1tb")).toBe(1024 ** 4);
    expect(parseByteSize(4096)).toBe(4096);
    expect(parseByteSize("12")).toBe(12);
    expect(parseByteSize("1 PB")).toBeUndefined();
  });
});

describe("maintenance on save", () => {
  async function storePath(): Promise<string> {
    return join(await testdir(), "sessions.json");
  }

  it("enforce + pruneAfter 7d persists only the fresh entry (#126)", async () => {
    const path = await storePath();
    await saveSessionStore(
      path,
      { stale: aged(30), fresh: aged(1) },
      { maintenance: { mode: "enforce", pruneAfterMs: parseDurationMs("7d") as number, now } },
    );
    expect(Object.keys(JSON.parse(await readFile(path, "utf8")))).toEqual(["fresh"]);
  });

  it("enforce + maxEntries 5 persists the 5 newest of 10 and reports the removed (#127)", async () => {
    const path = await storePath();
    const store: SessionStore = {};
    for (let index = 0; index < 10; index += 1) store[`k${index}`] = aged(index);
    const onRemoved = vi.fn();
    await saveSessionStore(path, store, {
      maintenance: { mode: "enforce", maxEntries: 5, now, onRemoved },
    });
    expect(Object.keys(JSON.parse(await readFile(path, "utf8")))).toEqual([
      "k0",
      "k1",
      "k2",
      "k3",
      "k4",
    ]);
    expect(onRemoved).toHaveBeenCalledTimes(1);
    expect(
      onRemoved.mock.calls[0]?.[0].map((item: { key: string; reason: string }) => [
        item.key,
        item.reason,
      ]),
    ).toEqual([
      ["k5", "capped"],
      ["k6", "capped"],
      ["k7", "capped"],
      ["k8", "capped"],
      ["k9", "capped"],
    ]);
  });

  it("enforce + rotateBytes 100b keeps a backup and writes a readable small store (#128)", async () => {
    const dir = await testdir();
    const path = join(dir, "sessions.json");
    const big: SessionStore = {};
    for (let index = 0; index < 20; index += 1) big[`k${index}`] = aged(1);
    await saveSessionStore(path, big);
    await saveSessionStore(
      path,
      { small: aged(1) },
      { maintenance: { mode: "enforce", rotateBytes: parseByteSize("100b") as number, now } },
    );
    const names = readdirSync(dir);
    expect(names.some((name) => name.startsWith("sessions.json.bak."))).toBe(true);
    expect(Object.keys(await loadSessionStore(path, { skipCache: true }))).toEqual(["small"]);
  });

  it("warn mode removes nothing (#129) and reports an active key that would be capped (#133)", async () => {
    const path = await storePath();
    const warnings: SessionMaintenanceWarning[] = [];
    await saveSessionStore(
      path,
      { newer: aged(1), active: aged(10) },
      {
        maintenance: {
          mode: "warn",
          maxEntries: 1,
          pruneAfterMs: 7 * DAY,
          activeSessionKey: "active",
          onWarn: (warning) => warnings.push(warning),
          now,
        },
      },
    );
    expect(Object.keys(JSON.parse(await readFile(path, "utf8")))).toEqual(["newer", "active"]);
    expect(warnings).toEqual([
      {
        activeSessionKey: "active",
        activeUpdatedAt: NOW - 10 * DAY,
        totalEntries: 2,
        pruneAfterMs: 7 * DAY,
        maxEntries: 1,
        wouldPrune: true,
        wouldCap: true,
      },
    ]);
  });

  it("enforce mode never removes the active key of an entry update", async () => {
    const path = await storePath();
    await saveSessionStore(path, { active: aged(60), other: aged(60) });
    await updateSessionStoreEntry({
      storePath: path,
      sessionKey: "active",
      update: () => ({ label: "still here" }),
      maintenance: { mode: "enforce", pruneAfterMs: DAY, maxEntries: 1, now },
    });
    expect(Object.keys(JSON.parse(await readFile(path, "utf8")))).toEqual(["active"]);
  });
});
