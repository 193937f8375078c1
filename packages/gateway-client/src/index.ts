export {
  buildDeviceAuthPayload,
  type DeviceAuthFields,
  type DeviceIdentity,
  deriveDeviceId,
  deviceIdentityFromPrivateKey,
  generateDeviceIdentity,
  signDeviceAuthPayload,
} from "./device-identity.ts";
export {
  type CallOptions,
  type CloseInfo,
  type ConnectGatewayOptions,
  connectGateway,
  type DeviceTokenGrant,
  type EventListener,
  GATEWAY_CLIENT_VERSION,
  type GatewayClient,
  type GatewayClientInfo,
} from "./gateway-client.ts";
export {
  GATEWAY_CLIENT_ERROR_CODES,
  GatewayClientError,
  type GatewayClientErrorCode,
  type GatewayClientErrorOptions,
} from "./gateway-client-error.ts";
