export {
  type ApproveDeviceOptions,
  approveDevice,
  type DeviceList,
  type DeviceTokenRecord,
  type ListDevicesOptions,
  listDevices,
  type PairedDeviceSummary,
  type PendingPairingRecord,
  type RevokeDeviceResult,
  resolveDevicesDir,
  revokeDevice,
} from "./device-store.ts";
export {
  type CloseGatewayOptions,
  createGatewayServer,
  DEFAULT_SESSION_DEFAULTS,
  GATEWAY_VERSION,
  type GatewayAddress,
  type GatewayHealth,
  type GatewayLiveness,
  type GatewayServer,
  type GatewayServerOptions,
  type GatewayStoreHealth,
  HEALTHZ_PATH,
} from "./gateway-server.ts";
export {
  type GatewayFlags,
  type GatewaySettings,
  type GatewayTokenSource,
  resolveGatewaySettings,
} from "./gateway-settings.ts";
export {
  ensureGatewayTokenFile,
  type GatewayTokenFile,
  readGatewayTokenFile,
  resolveGatewayTokenPath,
} from "./gateway-token.ts";
export {
  createJsonLinesLogger,
  formatLogLine,
  type JsonLinesLoggerOptions,
  type LogLevel,
} from "./json-lines-logger.ts";
export { EXIT_CODES, type RunGatewayCliOptions, runGatewayCli } from "./main.ts";
export {
  DEFAULT_BIND_HOST,
  DEFAULT_GATEWAY_PORT,
  formatGatewayUrl,
  isLoopbackAddress,
  isLoopbackRequest,
  resolveBindHost,
} from "./network.ts";
