import { randomUUID } from "node:crypto";
import {
  type ConnectParams,
  type ErrorShape,
  type EventFrame,
  type HelloOk,
  PROTOCOL_VERSION,
  type ResponseFrame,
} from "@clawkeep/schema";
import { type RawData, WebSocket } from "ws";
import {
  buildDeviceAuthPayload,
  type DeviceIdentity,
  signDeviceAuthPayload,
} from "./device-identity.ts";
import { GatewayClientError } from "./gateway-client-error.ts";

/** The `client.version` this package sends unless told otherwise. */
export const GATEWAY_CLIENT_VERSION = "0.1.0";

/** The `client` block of `connect`. */
export interface GatewayClientInfo {
  /** One of the ids a v3 gateway accepts. @default "gateway-client" */
  id?: string;
  /** @default GATEWAY_CLIENT_VERSION */
  version?: string;
  /** @default process.platform */
  platform?: string;
  /** One of the modes a v3 gateway accepts. @default "backend" */
  mode?: string;
  displayName?: string;
  instanceId?: string;
}

/** What `hello-ok.auth` grants a device; persist `deviceToken` to reconnect without the shared token. */
export interface DeviceTokenGrant {
  deviceToken: string;
  role: string;
  scopes: string[];
  issuedAtMs?: number;
}

export interface ConnectGatewayOptions {
  /** `ws://host:port` of the gateway. */
  url: string;
  /** The gateway's shared token. @default undefined */
  token?: string;
  /**
   * A device token stored from an earlier `hello-ok`. Sent as `auth.token` instead of `token`,
   * as the gateway expects from a paired device. Needs `device`.
   * @default undefined
   */
  deviceToken?: string;
  /** Signs the connect with this identity. @default undefined (token-only client) */
  device?: DeviceIdentity;
  /**
   * Called with the device token a `hello-ok` grants, before `connectGateway` resolves; a
   * rejection fails the connect, so a token is never used before it is stored.
   * @default undefined
   */
  onDeviceToken?: (grant: DeviceTokenGrant) => void | Promise<void>;
  /** @default "operator" */
  role?: string;
  /** @default ["operator.admin"] */
  scopes?: readonly string[];
  /** @default { id: "gateway-client", mode: "backend", … } */
  client?: GatewayClientInfo;
  /**
   * How long to wait for `connect.challenge` before connecting without a nonce (which only a
   * loopback gateway accepts).
   * @default 750
   */
  challengeTimeoutMs?: number;
  /** Time from opening the socket to `hello-ok`. @default 10000 */
  handshakeTimeoutMs?: number;
  /** Default timeout of {@link GatewayClient.call}. @default 30000 */
  callTimeoutMs?: number;
  /** Largest frame accepted from the gateway; a bigger one closes the socket (1009). @default 26214400 */
  maxPayload?: number;
  /**
   * Close with 4000 `tick timeout` when no `tick` arrives for twice `policy.tickIntervalMs`.
   * @default true
   */
  watchTicks?: boolean;
  /** Clock for `device.signedAt`. @default Date.now */
  now?: () => number;
}

export interface CallOptions {
  /** @default the connection's `callTimeoutMs` */
  timeoutMs?: number;
}

/** How a connection ended. */
export interface CloseInfo {
  code: number;
  reason: string;
}

export type EventListener = (payload: unknown, frame: EventFrame) => void;

/** A connection that completed the handshake. */
export interface GatewayClient {
  /** The gateway's `hello-ok` payload. */
  readonly hello: HelloOk;
  /** The highest broadcast `seq` seen, or `undefined` before the first. */
  readonly lastSeq: number | undefined;
  /**
   * Sends a request and resolves with its `payload`. Rejects with a {@link GatewayClientError}
   * carrying the gateway's error code, or `CLIENT_TIMEOUT` / `CLIENT_CLOSED`.
   */
  call<Result = unknown>(method: string, params?: unknown, options?: CallOptions): Promise<Result>;
  /** Listens to one event (`"*"` for all); returns the unsubscribe function. */
  on(event: string, listener: EventListener): () => void;
  /** Resolves when the connection has closed, for whatever reason. */
  readonly closed: Promise<CloseInfo>;
  /** Closes the connection and resolves once it is closed. @default code 1000 */
  close(code?: number, reason?: string): Promise<CloseInfo>;
}

const DEFAULT_SCOPES = ["operator.admin"] as const;

interface PendingCall {
  resolve: (payload: unknown) => void;
  reject: (error: unknown) => void;
  timer: NodeJS.Timeout;
}

function toText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString("utf8");
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString("utf8");
  return data.toString("utf8");
}

function parseFrame(data: RawData): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(toText(data));
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function errorFromWire(error: ErrorShape | undefined, fallback: string): GatewayClientError {
  if (error === undefined) return new GatewayClientError("CLIENT_PROTOCOL", fallback);
  const options: ConstructorParameters<typeof GatewayClientError>[2] = {};
  if (error.details !== undefined) options.details = error.details;
  if (error.retryable !== undefined) options.retryable = error.retryable;
  if (error.retryAfterMs !== undefined) options.retryAfterMs = error.retryAfterMs;
  return new GatewayClientError(error.code, error.message, options);
}

function closedError(info: CloseInfo, what: string): GatewayClientError {
  const reason = info.reason === "" ? "" : ` ${info.reason}`;
  return new GatewayClientError(
    "CLIENT_CLOSED",
    `${what}: connection closed (${info.code}${reason})`,
    {
      closeCode: info.code,
      closeReason: info.reason,
    },
  );
}

/**
 * Opens a connection to a gateway and completes the protocol v3 handshake: waits for
 * `connect.challenge`, sends `connect` (signed when a device identity is given), and resolves
 * with the connection once `hello-ok` arrives. Rejects with a {@link GatewayClientError}: the
 * gateway's own code and message when it refused the connect (`NOT_PAIRED`, `INVALID_REQUEST`,
 * …), else one of the `CLIENT_*` codes.
 */
export function connectGateway(options: ConnectGatewayOptions): Promise<GatewayClient> {
  const settings = {
    challengeTimeoutMs: options.challengeTimeoutMs ?? 750,
    handshakeTimeoutMs: options.handshakeTimeoutMs ?? 10_000,
    callTimeoutMs: options.callTimeoutMs ?? 30_000,
    maxPayload: options.maxPayload ?? 25 * 1024 * 1024,
    watchTicks: options.watchTicks ?? true,
    now: options.now ?? Date.now,
    role: options.role ?? "operator",
    scopes: [...(options.scopes ?? DEFAULT_SCOPES)],
  };
  const clientInfo = {
    id: options.client?.id ?? "gateway-client",
    version: options.client?.version ?? GATEWAY_CLIENT_VERSION,
    platform: options.client?.platform ?? process.platform,
    mode: options.client?.mode ?? "backend",
    ...(options.client?.displayName === undefined
      ? {}
      : { displayName: options.client.displayName }),
    ...(options.client?.instanceId === undefined ? {} : { instanceId: options.client.instanceId }),
  };

  const socket = new WebSocket(options.url, { maxPayload: settings.maxPayload });
  const pending = new Map<string, PendingCall>();
  const listeners = new Map<string, Set<EventListener>>();
  let hello: HelloOk | undefined;
  let lastSeq: number | undefined;
  let lastTickAt = Date.now();
  let tickWatch: NodeJS.Timeout | undefined;
  let socketError: Error | undefined;
  let resolveClosed: (info: CloseInfo) => void = () => {};
  const closed = new Promise<CloseInfo>((resolve) => {
    resolveClosed = resolve;
  });

  return new Promise<GatewayClient>((resolveConnect, rejectConnect) => {
    let settled = false;
    let connectId: string | undefined;
    let challengeTimer: NodeJS.Timeout | undefined;

    const handshakeTimer = setTimeout(() => {
      failHandshake(
        new GatewayClientError(
          "CLIENT_TIMEOUT",
          `no hello-ok from ${options.url} within ${settings.handshakeTimeoutMs} ms`,
        ),
      );
    }, settings.handshakeTimeoutMs);

    function failHandshake(error: GatewayClientError): void {
      if (settled) return;
      settled = true;
      clearTimeout(handshakeTimer);
      clearTimeout(challengeTimer);
      rejectConnect(error);
      if (socket.readyState === WebSocket.OPEN || socket.readyState === WebSocket.CONNECTING) {
        socket.terminate();
      }
    }

    function sendConnect(nonce: string | undefined): void {
      if (connectId !== undefined) return;
      clearTimeout(challengeTimer);
      connectId = randomUUID();
      const authToken = options.deviceToken ?? options.token;
      const params: ConnectParams = {
        minProtocol: PROTOCOL_VERSION,
        maxProtocol: PROTOCOL_VERSION,
        client: clientInfo as ConnectParams["client"],
        role: settings.role,
        scopes: settings.scopes,
      };
      if (authToken !== undefined) params.auth = { token: authToken };
      if (options.device !== undefined) {
        const signedAt = settings.now();
        const payload = buildDeviceAuthPayload({
          deviceId: options.device.deviceId,
          clientId: clientInfo.id,
          clientMode: clientInfo.mode,
          role: settings.role,
          scopes: settings.scopes,
          signedAtMs: signedAt,
          token: authToken,
          nonce,
        });
        params.device = {
          id: options.device.deviceId,
          publicKey: options.device.publicKey,
          signature: signDeviceAuthPayload(options.device, payload),
          signedAt,
          ...(nonce === undefined ? {} : { nonce }),
        };
      }
      socket.send(JSON.stringify({ type: "req", id: connectId, method: "connect", params }));
    }

    async function completeHandshake(payload: HelloOk): Promise<void> {
      const grant = payload.auth;
      if (
        grant?.deviceToken !== undefined &&
        options.device !== undefined &&
        options.onDeviceToken !== undefined
      ) {
        await options.onDeviceToken({
          deviceToken: grant.deviceToken,
          role: grant.role,
          scopes: [...grant.scopes],
          ...(grant.issuedAtMs === undefined ? {} : { issuedAtMs: grant.issuedAtMs }),
        });
      }
      if (settled) return;
      settled = true;
      clearTimeout(handshakeTimer);
      hello = payload;
      lastTickAt = Date.now();
      startTickWatch(payload.policy.tickIntervalMs);
      resolveConnect(client);
    }

    function startTickWatch(intervalMs: number): void {
      if (!settings.watchTicks) return;
      tickWatch = setInterval(() => {
        if (Date.now() - lastTickAt > intervalMs * 2) socket.close(4000, "tick timeout");
      }, intervalMs);
      tickWatch.unref();
    }

    function onHandshakeFrame(frame: Record<string, unknown>): void {
      if (frame.type === "event" && frame.event === "connect.challenge") {
        const payload = frame.payload as { nonce?: unknown } | undefined;
        sendConnect(typeof payload?.nonce === "string" ? payload.nonce : undefined);
        return;
      }
      if (frame.type !== "res" || connectId === undefined || frame.id !== connectId) return;
      const response = frame as unknown as ResponseFrame;
      if (!response.ok) {
        failHandshake(errorFromWire(response.error, "connect failed without an error"));
        return;
      }
      const payload = response.payload as HelloOk | undefined;
      if (payload?.type !== "hello-ok" || typeof payload.policy?.tickIntervalMs !== "number") {
        failHandshake(
          new GatewayClientError("CLIENT_PROTOCOL", "connect answered without hello-ok"),
        );
        return;
      }
      completeHandshake(payload).catch((error: unknown) => {
        failHandshake(
          new GatewayClientError("CLIENT_CONNECT_FAILED", "storing the device token failed", {
            cause: error,
          }),
        );
      });
    }

    function onFrame(frame: Record<string, unknown>): void {
      if (frame.type === "res" && typeof frame.id === "string") {
        const call = pending.get(frame.id);
        if (call === undefined) return;
        pending.delete(frame.id);
        clearTimeout(call.timer);
        const response = frame as unknown as ResponseFrame;
        if (response.ok) call.resolve(response.payload);
        else call.reject(errorFromWire(response.error, "request failed without an error"));
        return;
      }
      if (frame.type === "event" && typeof frame.event === "string") {
        const event = frame as unknown as EventFrame;
        if (typeof event.seq === "number") lastSeq = event.seq;
        if (event.event === "tick") lastTickAt = Date.now();
        for (const name of [event.event, "*"]) {
          for (const listener of listeners.get(name) ?? []) listener(event.payload, event);
        }
      }
    }

    socket.on("open", () => {
      challengeTimer = setTimeout(() => sendConnect(undefined), settings.challengeTimeoutMs);
    });

    socket.on("message", (data, isBinary) => {
      const frame = isBinary ? undefined : parseFrame(data);
      if (frame === undefined) {
        if (hello === undefined) {
          failHandshake(new GatewayClientError("CLIENT_PROTOCOL", "gateway sent a non-JSON frame"));
        }
        return;
      }
      if (hello === undefined) onHandshakeFrame(frame);
      else onFrame(frame);
    });

    socket.on("error", (error) => {
      socketError = error;
    });

    socket.on("close", (code, reasonBuffer) => {
      const info: CloseInfo = { code, reason: reasonBuffer.toString("utf8") };
      clearInterval(tickWatch);
      if (!settled) {
        failHandshake(
          hello === undefined && connectId === undefined && socketError !== undefined
            ? new GatewayClientError(
                "CLIENT_CONNECT_FAILED",
                `cannot connect to ${options.url}: ${socketError.message}`,
                { cause: socketError },
              )
            : closedError(info, "connect"),
        );
      }
      for (const [id, call] of pending) {
        pending.delete(id);
        clearTimeout(call.timer);
        call.reject(closedError(info, "call"));
      }
      resolveClosed(info);
    });

    const client: GatewayClient = {
      get hello() {
        if (hello === undefined) throw new Error("hello read before the handshake completed");
        return hello;
      },
      get lastSeq() {
        return lastSeq;
      },
      closed,
      call<Result>(method: string, params?: unknown, callOptions: CallOptions = {}) {
        return new Promise<Result>((resolve, reject) => {
          if (socket.readyState !== WebSocket.OPEN) {
            reject(
              new GatewayClientError("CLIENT_CLOSED", `call ${method}: connection is not open`),
            );
            return;
          }
          const id = randomUUID();
          const timeoutMs = callOptions.timeoutMs ?? settings.callTimeoutMs;
          const timer = setTimeout(() => {
            pending.delete(id);
            reject(
              new GatewayClientError(
                "CLIENT_TIMEOUT",
                `call ${method}: no response within ${timeoutMs} ms`,
              ),
            );
          }, timeoutMs);
          pending.set(id, { resolve: resolve as (payload: unknown) => void, reject, timer });
          const frame: Record<string, unknown> = { type: "req", id, method };
          if (params !== undefined) frame.params = params;
          socket.send(JSON.stringify(frame));
        });
      },
      on(event, listener) {
        let set = listeners.get(event);
        if (set === undefined) {
          set = new Set();
          listeners.set(event, set);
        }
        set.add(listener);
        return () => {
          set.delete(listener);
        };
      },
      async close(code = 1000, reason = "") {
        if (socket.readyState === WebSocket.OPEN || socket.readyState === WebSocket.CONNECTING) {
          socket.close(code, reason);
        }
        return await closed;
      },
    };
  });
}
