import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { testdir } from "@clawkeep/test-utils";
import { describe, expect, it } from "vitest";
import { resolveGatewaySettings } from "./gateway-settings.ts";
import { ensureGatewayTokenFile, readGatewayTokenFile } from "./gateway-token.ts";
import { isLoopbackAddress, resolveBindHost } from "./network.ts";

describe("resolveGatewaySettings", () => {
  it("defaults to 127.0.0.1:18790 and creates a private token file on loopback", async () => {
    const stateDir = await testdir();
    const settings = await resolveGatewaySettings({ stateDir }, {});
    expect(settings).toMatchObject({
      host: "127.0.0.1",
      port: 18790,
      stateDir,
      stateDirSource: "--state-dir",
      configPath: join(stateDir, "openclaw.json"),
      tokenSource: "token file",
      sessionDefaults: {
        defaultAgentId: "main",
        mainKey: "main",
        mainSessionKey: "agent:main:main",
        scope: "per-sender",
      },
    });
    const path = join(stateDir, "clawkeep", "gateway.token");
    expect(settings.tokenFile).toEqual({
      token: settings.token,
      path,
      created: true,
      tooOpen: false,
    });
    expect(settings.token).toMatch(/^[0-9a-f]{64}$/);
    expect(await readFile(path, "utf8")).toBe(`${settings.token}\n`);
    expect((await stat(path)).mode & 0o777).toBe(0o600);

    const again = await resolveGatewaySettings({ stateDir }, {});
    expect(again.token).toBe(settings.token);
    expect(again.tokenFile?.created).toBe(false);
    await expect(readGatewayTokenFile(stateDir)).resolves.toBe(settings.token);
  });

  it("lets two starts race for the token file and agree on one token", async () => {
    const stateDir = await testdir();
    const results = await Promise.all([
      ensureGatewayTokenFile(stateDir),
      ensureGatewayTokenFile(stateDir),
      ensureGatewayTokenFile(stateDir),
    ]);
    expect(new Set(results.map((result) => result.token)).size).toBe(1);
  });

  it("takes flags over CLAWKEEP_* over OPENCLAW_* over the config file", async () => {
    const stateDir = await testdir({
      "openclaw.json":
        "{ gateway: { auth: { token: 'from-config' } }, session: { mainKey: 'home' } }",
    });
    const env = {
      CLAWKEEP_GATEWAY_PORT: "2000",
      OPENCLAW_GATEWAY_PORT: "3000",
      CLAWKEEP_GATEWAY_BIND: "lan",
      OPENCLAW_GATEWAY_TOKEN: "from-openclaw-env",
    };
    const fromEnv = await resolveGatewaySettings({ stateDir }, env);
    expect(fromEnv).toMatchObject({
      host: "0.0.0.0",
      port: 2000,
      token: "from-openclaw-env",
      tokenSource: "OPENCLAW_GATEWAY_TOKEN",
      tokenFile: undefined,
      sessionDefaults: { mainKey: "home", mainSessionKey: "agent:main:home" },
    });
    const fromFlags = await resolveGatewaySettings(
      { stateDir, port: "0", bind: "::1", token: "0123" },
      { ...env, CLAWKEEP_GATEWAY_TOKEN: "from-clawkeep-env" },
    );
    expect(fromFlags).toMatchObject({
      host: "::1",
      port: 0,
      token: "0123",
      tokenSource: "--token",
    });
    const fromConfig = await resolveGatewaySettings({ stateDir }, {});
    expect(fromConfig).toMatchObject({ token: "from-config", tokenSource: "gateway.auth.token" });
    const openclawOnly = await resolveGatewaySettings(
      { stateDir },
      { OPENCLAW_GATEWAY_PORT: "3000" },
    );
    expect(openclawOnly.port).toBe(3000);
  });

  it("reads the config file from --config over CLAWKEEP_CONFIG_PATH over OPENCLAW_CONFIG_PATH", async () => {
    const config = (name: string) => ({
      gateway: { auth: { token: `${name}-token` } },
      session: { mainKey: name },
    });
    const stateDir = await testdir({
      "openclaw.json": config("default"),
      "flag.json": config("flag"),
      "clawkeep-env.json": config("clawkeep"),
      "openclaw-env.json": config("openclaw"),
    });
    const env = {
      CLAWKEEP_CONFIG_PATH: join(stateDir, "clawkeep-env.json"),
      OPENCLAW_CONFIG_PATH: join(stateDir, "openclaw-env.json"),
    };
    const cases = [
      [{ stateDir, config: join(stateDir, "flag.json") }, env, "flag", "flag.json"],
      [{ stateDir }, env, "clawkeep", "clawkeep-env.json"],
      [
        { stateDir },
        { OPENCLAW_CONFIG_PATH: env.OPENCLAW_CONFIG_PATH },
        "openclaw",
        "openclaw-env.json",
      ],
      [{ stateDir }, {}, "default", "openclaw.json"],
    ] as const;
    for (const [flags, environment, name, file] of cases) {
      const settings = await resolveGatewaySettings(flags, environment);
      expect(settings, name).toMatchObject({
        configPath: join(stateDir, file),
        configFound: true,
        token: `${name}-token`,
        tokenSource: "gateway.auth.token",
        sessionDefaults: { mainKey: name, mainSessionKey: `agent:main:${name}` },
      });
    }
  });

  it("refuses a non-loopback address without a configured token", async () => {
    const stateDir = await testdir();
    await expect(resolveGatewaySettings({ stateDir, bind: "0.0.0.0" }, {})).rejects.toMatchObject({
      code: "INVALID_CONFIG",
      message: expect.stringContaining("refusing to listen on 0.0.0.0 without a configured token"),
    });
    await expect(readGatewayTokenFile(stateDir)).resolves.toBeUndefined();
    await expect(
      resolveGatewaySettings({ stateDir, bind: "0.0.0.0", token: "t" }, {}),
    ).resolves.toMatchObject({ host: "0.0.0.0", token: "t" });
  });

  it("refuses bad ports and bind addresses with the source named", async () => {
    const stateDir = await testdir();
    await expect(resolveGatewaySettings({ stateDir, port: "70000" }, {})).rejects.toMatchObject({
      code: "INVALID_CONFIG",
      message: 'invalid port from --port: "70000" (expected 0 to 65535)',
    });
    await expect(
      resolveGatewaySettings({ stateDir }, { CLAWKEEP_GATEWAY_PORT: "http" }),
    ).rejects.toMatchObject({ message: expect.stringContaining("CLAWKEEP_GATEWAY_PORT") });
    await expect(
      resolveGatewaySettings({ stateDir, bind: "example.com" }, {}),
    ).rejects.toMatchObject({
      code: "INVALID_CONFIG",
      message: expect.stringContaining('invalid bind address: "example.com"'),
    });
  });
});

describe("addresses", () => {
  it("resolves bind aliases and IPs", () => {
    expect(resolveBindHost("loopback")).toBe("127.0.0.1");
    expect(resolveBindHost("LAN")).toBe("0.0.0.0");
    expect(resolveBindHost("[::1]")).toBe("::1");
    expect(resolveBindHost("10.0.0.5")).toBe("10.0.0.5");
  });

  it("knows loopback addresses", () => {
    for (const address of ["127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1"]) {
      expect(isLoopbackAddress(address), address).toBe(true);
    }
    for (const address of ["0.0.0.0", "::", "10.0.0.1", "::ffff:10.0.0.1", undefined]) {
      expect(isLoopbackAddress(address), String(address)).toBe(false);
    }
  });
});
