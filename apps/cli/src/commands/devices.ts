import { SessionsError } from "@clawkeep/schema";
import type { DeviceList, PairedDeviceSummary } from "clawkeep-gateway";
import type { CommandContext, CommandResult } from "../command-context.ts";
import { EXIT_CODES } from "../exit-codes.ts";
import { formatTable, formatTime } from "../output-style.ts";

/** `clawkeep devices list`: paired devices and pending pairing requests. */
export async function runDevicesList(context: CommandContext): Promise<CommandResult<DeviceList>> {
  const { listDevices } = await import("clawkeep-gateway");
  const devices = await listDevices(context.stateDir);
  return {
    data: devices,
    exitCode: EXIT_CODES.OK,
    render: (style) => {
      const lines: string[] = [];
      if (devices.paired.length === 0) lines.push("No paired devices.");
      else {
        lines.push(
          formatTable(
            ["DEVICE", "CLIENT", "ROLES", "SCOPES", "PAIRED"],
            devices.paired.map((device) => [
              device.deviceId,
              `${device.clientId} (${device.clientMode})`,
              device.roles.join(","),
              device.scopes.join(","),
              formatTime(device.pairedAtMs),
            ]),
            style,
          ),
        );
      }
      if (devices.pending.length > 0) {
        lines.push(
          "",
          "Pending pairing requests (approve with `clawkeep devices approve <request>`):",
          formatTable(
            ["REQUEST", "DEVICE", "ROLE", "SCOPES", "REQUESTED"],
            devices.pending.map((request) => [
              request.requestId,
              request.deviceId,
              request.role,
              request.scopes.join(","),
              formatTime(request.requestedAtMs),
            ]),
            style,
          ),
        );
      }
      return lines.join("\n");
    },
  };
}

/** `clawkeep devices approve <requestId>`. */
export async function runDevicesApprove(
  requestId: string,
  context: CommandContext,
): Promise<CommandResult<{ device: PairedDeviceSummary }>> {
  const { approveDevice } = await import("clawkeep-gateway");
  const device = await approveDevice(context.stateDir, requestId);
  return {
    data: { device },
    exitCode: EXIT_CODES.OK,
    render: () =>
      `Approved device ${device.deviceId} for ${device.roles.join(", ")} (${device.scopes.join(", ")})`,
  };
}

/** `clawkeep devices revoke <deviceId>`; fails when the device is unknown. */
export async function runDevicesRevoke(
  deviceId: string,
  context: CommandContext,
): Promise<CommandResult<{ deviceId: string; revoked: boolean; pendingRemoved: number }>> {
  const { revokeDevice } = await import("clawkeep-gateway");
  const result = await revokeDevice(context.stateDir, deviceId);
  if (!result.revoked && result.pendingRemoved === 0) {
    throw new SessionsError(
      "INVALID_PARAMS",
      `no paired device or pending request for ${deviceId}; see \`clawkeep devices list\``,
    );
  }
  return {
    data: { deviceId, ...result },
    exitCode: EXIT_CODES.OK,
    render: () =>
      result.revoked
        ? `Revoked device ${deviceId}; it must be paired again to connect.`
        : `Dropped ${result.pendingRemoved} pending request(s) of ${deviceId}.`,
  };
}
