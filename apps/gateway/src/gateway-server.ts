import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { hostname } from "node:os";
import {
  type ConnectedClient,
  type DispatchResult,
  type Logger,
  type MethodRegistry,
  type RpcError,
  silentLogger,
  toRpcError,
} from "@clawkeep/gateway-methods";
import {
  type ConnectParams,
  ConnectParamsSchema,
  ERROR_CODES,
  formatValidationIssues,
  GATEWAY_ROLES,
  HANDSHAKE_TIMEOUT_MS,
  type HelloOk,
  MAX_BUFFERED_BYTES,
  MAX_PAYLOAD_BYTES,
  negotiateProtocolVersion,
  PROTOCOL_VERSION,
  RequestFrameSchema,
  type SessionDefaults,
  TICK_INTERVAL_MS,
  validateParams,
} from "@clawkeep/schema";
import { type RawData, WebSocket, WebSocketServer } from "ws";
import { z } from "zod";
import { verifyDeviceProof } from "./device-proof.ts";
import { createDeviceStore, type DeviceStore, type DeviceTokenRecord } from "./device-store.ts";
import { formatGatewayUrl, isLoopbackRequest } from "./network.ts";
import { secretsEqual } from "./secrets.ts";

/** The version this gateway reports in `hello-ok.server.version`. */
export const GATEWAY_VERSION = "0.1.0";

/** The session settings sent when the embedder supplies none: openclaw's defaults. */
export const DEFAULT_SESSION_DEFAULTS: SessionDefaults = Object.freeze({
  defaultAgentId: "main",
  mainKey: "main",
  mainSessionKey: "agent:main:main",
  scope: "per-sender",
});

/** The events the gateway itself sends; handlers' events are declared on the registry. */
const GATEWAY_EVENTS = ["connect.challenge", "tick", "shutdown"] as const;

const TOKEN_HINT = "set gateway.remote.token to match gateway.auth.token";

/** The path answered over plain HTTP, without auth, for liveness checks. */
export const HEALTHZ_PATH = "/healthz";

/** Longest client-chosen text (a request id, a method name) written to a log line. */
const MAX_LOGGED_TEXT = 200;

/** One agent store in a `health` report. */
export interface GatewayStoreHealth {
  agentId: string;
  storePath: string;
  /** Sessions in the store; `null` when it cannot be read. */
  sessions: number | null;
  /** Why the store cannot be read (`STORE_CORRUPT`, …). */
  error?: string;
}

/** The payload of the `health` method. */
export interface GatewayHealth {
  ok: true;
  ts: number;
  uptimeMs: number;
  version: string;
  stateDir: string;
  agents: GatewayStoreHealth[];
}

/**
 * What `GET /healthz` answers, to anyone who can reach the port: whether the gateway is up, and
 * nothing about its sessions, files or clients.
 */
export interface GatewayLiveness {
  ok: true;
  ts: number;
  uptimeMs: number;
  version: string;
}

export interface GatewayServerOptions {
  /** The methods to serve. */
  registry: MethodRegistry;
  /**
   * The shared token every client without a paired device must present. Required: auth is
   * never off.
   */
  token: string;
  /** The state dir: device pairings live under `<stateDir>/clawkeep/devices/`. */
  stateDir: string;
  /** @default "127.0.0.1" */
  host?: string;
  /** 0 picks a free port; {@link GatewayServer.listen} returns the actual one. @default 18790 */
  port?: number;
  /** Reported in `hello-ok.snapshot.configPath`. @default undefined */
  configPath?: string;
  /** Reported in `hello-ok.snapshot.sessionDefaults`. @default DEFAULT_SESSION_DEFAULTS */
  sessionDefaults?: SessionDefaults;
  /**
   * The agent stores and their session counts reported by the `health` method (the session
   * methods' `describeStores`). Called for each `health` request.
   * @default none are reported
   */
  describeStores?: () => Promise<readonly GatewayStoreHealth[]>;
  /**
   * Receives one line per request (`request` with `connId`, `id`, `method`, `durationMs`, `ok`
   * and the error `code`; never params or tokens) and the gateway's other events.
   * @default silentLogger
   */
  logger?: Logger;
  /** A socket that has not completed `connect` by then is closed. @default 10000 */
  handshakeTimeoutMs?: number;
  /** Interval of `tick` events, announced in `hello-ok.policy`. @default 30000 */
  tickIntervalMs?: number;
  /** Largest frame accepted; a bigger one closes the socket with 1009. @default 8388608 */
  maxPayload?: number;
  /**
   * Bytes queued for one client beyond which it is dropped (1008 `slow consumer`) instead of
   * buffering events without bound.
   * @default 16777216
   */
  maxBufferedBytes?: number;
  /**
   * Requests one connection may have in progress; more are refused with a retryable
   * `UNAVAILABLE`, so one client cannot queue unbounded work.
   * @default 32
   */
  maxInFlight?: number;
  /**
   * Open sockets (including ones still in the handshake) beyond which new upgrades get HTTP 503,
   * so a flood of idle sockets cannot exhaust the process.
   * @default 1024
   */
  maxConnections?: number;
  /** How long {@link GatewayServer.close} waits for requests in progress. @default 10000 */
  shutdownTimeoutMs?: number;
  /**
   * Decides whether a connection is local: local devices are paired automatically and may
   * connect without a nonce.
   * @default loopback peer address and no proxy forwarding headers
   */
  isLoopback?: (request: IncomingMessage) => boolean;
  /**
   * `Origin` values accepted on the upgrade request. Non-browser clients send none; a browser
   * page from any other origin is refused with HTTP 403 before the handshake.
   * @default []
   */
  allowedOrigins?: readonly string[];
  /** @default Date.now */
  now?: () => number;
}

/** Where a listening gateway can be reached. */
export interface GatewayAddress {
  host: string;
  port: number;
  url: string;
}

export interface CloseGatewayOptions {
  /** Sent in the `shutdown` event. @default "gateway stopping" */
  reason?: string;
  /** Sent in the `shutdown` event. @default null */
  restartExpectedMs?: number | null;
}

export interface GatewayServer {
  /** What the `health` method answers now. */
  health(): Promise<GatewayHealth>;
  /** Starts listening; resolves with the bound address (the real port when 0 was asked). */
  listen(): Promise<GatewayAddress>;
  /** The bound address, once listening. */
  readonly address: GatewayAddress | undefined;
  /** Sends an event with the next `seq` to every connection that completed the handshake. */
  broadcast(event: string, payload?: unknown): void;
  /**
   * Sends an event to the connections subscribed to `topic` (a method such as
   * `sessions.subscribe` adds the topic to its connection). Such events carry no `seq`: the
   * shared counter numbers broadcasts, and a client that does not subscribe must see no gap.
   */
  sendToSubscribers(topic: string, event: string, payload?: unknown): void;
  /**
   * Stops gracefully: stops accepting connections, waits for requests in progress, sends
   * `shutdown` to every client, closes them with 1012 `service restart`, and resolves once the
   * server has stopped. Calling it again returns the same promise.
   */
  close(options?: CloseGatewayOptions): Promise<void>;
}

type Phase = "handshake" | "authenticating" | "open" | "closed";

interface Connection {
  connId: string;
  socket: WebSocket;
  request: IncomingMessage;
  isLoopback: boolean;
  nonce: string;
  phase: Phase;
  client: ConnectedClient | undefined;
  inFlight: number;
  /** Topics this connection subscribed to through its requests. */
  subscriptions: Set<string>;
  /** Frames that arrived while `connect` was being verified, served after `hello-ok`. */
  queued: Array<{ data: RawData; isBinary: boolean }>;
  handshakeTimer: NodeJS.Timeout | undefined;
  /** `performance.now()` when the first frame arrived, for the log line of `connect`. */
  connectStartedAt: number;
}

interface ParsedFrame {
  value: unknown;
}

/** A request as its log line names it. */
interface ServedRequest {
  id: string;
  /** Absent for a frame too broken to name one. */
  method?: string | undefined;
  /** `performance.now()` when its frame arrived. */
  startedAtMs: number;
}

const MAX_CLOSE_REASON_BYTES = 123;

/** A close reason is limited to 123 bytes by the WebSocket protocol; cut at a character boundary. */
function closeReason(text: string): string {
  if (Buffer.byteLength(text, "utf8") <= MAX_CLOSE_REASON_BYTES) return text;
  let cut = text;
  while (Buffer.byteLength(cut, "utf8") > MAX_CLOSE_REASON_BYTES) cut = cut.slice(0, -1);
  return cut;
}

function rawText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString("utf8");
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString("utf8");
  return data.toString("utf8");
}

function parseJson(data: RawData): ParsedFrame | undefined {
  try {
    return { value: JSON.parse(rawText(data)) };
  } catch {
    return undefined;
  }
}

function frameId(value: unknown): string {
  if (typeof value === "object" && value !== null) {
    const id = (value as { id?: unknown }).id;
    if (typeof id === "string" && id !== "") return id;
  }
  return "invalid";
}

/** A client-chosen text for a log line, cut so that a huge id cannot flood the log. */
function loggedText(text: string): string {
  return text.length <= MAX_LOGGED_TEXT ? text : `${text.slice(0, MAX_LOGGED_TEXT)}…`;
}

function isHealthzRequest(request: IncomingMessage): boolean {
  if (request.method !== "GET" && request.method !== "HEAD") return false;
  const url = request.url ?? "";
  const end = url.indexOf("?");
  return (end === -1 ? url : url.slice(0, end)) === HEALTHZ_PATH;
}

/**
 * Creates the gateway: a WebSocket server speaking openclaw's protocol v3 (challenge, `connect`
 * with token or device auth, `hello-ok`, requests dispatched through the registry, broadcast
 * events with a shared `seq`, `tick` events). Call {@link GatewayServer.listen} to start it.
 */
export function createGatewayServer(options: GatewayServerOptions): GatewayServer {
  if (options.token === "") throw new Error("a gateway needs a non-empty token");
  const settings = {
    host: options.host ?? "127.0.0.1",
    port: options.port ?? 18_790,
    handshakeTimeoutMs: options.handshakeTimeoutMs ?? HANDSHAKE_TIMEOUT_MS,
    tickIntervalMs: Math.max(1, options.tickIntervalMs ?? TICK_INTERVAL_MS),
    maxPayload: options.maxPayload ?? MAX_PAYLOAD_BYTES,
    maxBufferedBytes: options.maxBufferedBytes ?? MAX_BUFFERED_BYTES,
    maxInFlight: Math.max(1, options.maxInFlight ?? 32),
    maxConnections: Math.max(1, options.maxConnections ?? 1024),
    shutdownTimeoutMs: options.shutdownTimeoutMs ?? 10_000,
    isLoopback: options.isLoopback ?? isLoopbackRequest,
    allowedOrigins: [...(options.allowedOrigins ?? [])],
    sessionDefaults: options.sessionDefaults ?? DEFAULT_SESSION_DEFAULTS,
    now: options.now ?? Date.now,
  };
  const { registry, token, stateDir } = options;
  const logger = options.logger ?? silentLogger;
  const devices: DeviceStore = createDeviceStore(stateDir, { now: settings.now });
  const connections = new Set<Connection>();
  const pendingWork = new Set<Promise<void>>();
  const startedAt = settings.now();
  let seq = 0;
  let closing = false;
  let closePromise: Promise<void> | undefined;
  let tickTimer: NodeJS.Timeout | undefined;
  let address: GatewayAddress | undefined;

  const uptimeMs = () => Math.max(0, settings.now() - startedAt);

  async function health(): Promise<GatewayHealth> {
    const agents = (await options.describeStores?.()) ?? [];
    return {
      ok: true,
      ts: settings.now(),
      uptimeMs: uptimeMs(),
      version: GATEWAY_VERSION,
      stateDir,
      agents: agents.map((agent) => ({ ...agent })),
    };
  }

  // The gateway's own method, unless the embedder registered one of its name.
  if (!registry.has("health")) {
    registry.register({
      name: "health",
      scope: "read",
      // Options a client may send (openclaw's `probe`) are ignored: there is nothing to probe.
      paramsSchema: z.object({}),
      handler: () => health(),
    });
  }

  const httpServer = createServer((request, response) => {
    if (isHealthzRequest(request)) {
      const liveness: GatewayLiveness = {
        ok: true,
        ts: settings.now(),
        uptimeMs: uptimeMs(),
        version: GATEWAY_VERSION,
      };
      const body = `${JSON.stringify(liveness)}\n`;
      response.writeHead(200, {
        "content-type": "application/json",
        "content-length": Buffer.byteLength(body),
        "cache-control": "no-store",
      });
      response.end(request.method === "HEAD" ? undefined : body);
      return;
    }
    response.writeHead(426, { "content-type": "text/plain", connection: "close" });
    response.end("this is a WebSocket endpoint (gateway protocol v3)\n");
  });
  const wss = new WebSocketServer({ noServer: true, maxPayload: settings.maxPayload });

  httpServer.on("upgrade", (request, socket, head) => {
    const origin = request.headers.origin;
    if (origin !== undefined && !settings.allowedOrigins.includes(origin)) {
      socket.end("HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n");
      return;
    }
    if (closing || connections.size >= settings.maxConnections) {
      socket.end("HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n\r\n");
      return;
    }
    wss.handleUpgrade(request, socket, head, (socket) => onConnection(socket, request));
  });
  httpServer.on("clientError", (_error, socket) => {
    socket.destroy();
  });

  function track(work: Promise<void>): void {
    pendingWork.add(work);
    work.then(
      () => pendingWork.delete(work),
      () => pendingWork.delete(work),
    );
  }

  /**
   * Sends one frame's text, or drops the client when it has stopped reading: more than
   * `maxBufferedBytes` waiting in its socket means its frames would pile up in memory.
   */
  function sendText(connection: Connection, text: string): void {
    const socket = connection.socket;
    if (socket.readyState !== WebSocket.OPEN) return;
    if (socket.bufferedAmount > settings.maxBufferedBytes) {
      logger.warn("dropping slow client", { connId: connection.connId });
      closeConnection(connection, 1008, "slow consumer");
      return;
    }
    socket.send(text);
  }

  function send(connection: Connection, frame: unknown): void {
    sendText(connection, JSON.stringify(frame));
  }

  function closeConnection(connection: Connection, code: number, reason: string): void {
    connection.phase = "closed";
    clearTimeout(connection.handshakeTimer);
    const socket = connection.socket;
    if (socket.readyState === WebSocket.OPEN) socket.close(code, closeReason(reason));
    else if (socket.readyState === WebSocket.CONNECTING) socket.terminate();
  }

  function sendError(connection: Connection, id: string, error: RpcError): void {
    send(connection, { type: "res", id, ok: false, error });
  }

  /**
   * The one log line of a request: who, which, how long, and the outcome. The params, the
   * payload and the `auth` block are never logged.
   */
  function logRequest(
    connection: Connection,
    request: ServedRequest,
    error: RpcError | undefined,
  ): void {
    const fields: Record<string, unknown> = {
      connId: connection.connId,
      id: loggedText(request.id),
      method: request.method === undefined ? undefined : loggedText(request.method),
      durationMs: Math.round((performance.now() - request.startedAtMs) * 1000) / 1000,
      ok: error === undefined,
    };
    if (error === undefined) {
      logger.info("request", fields);
    } else {
      fields.code = error.code;
      logger.warn("request", fields);
    }
  }

  /** Answers a failed handshake and closes the socket with the same text as the reason. */
  function refuseHandshake(
    connection: Connection,
    id: string,
    error: RpcError,
    refusal: { closeCode?: number; method?: string } = {},
  ): void {
    sendError(connection, id, error);
    const method = refusal.method ?? "connect";
    logRequest(connection, { id, method, startedAtMs: connection.connectStartedAt }, error);
    closeConnection(connection, refusal.closeCode ?? 1008, error.message);
  }

  function sendResult(
    connection: Connection,
    request: ServedRequest & { method: string },
    result: DispatchResult,
  ) {
    const { id, method } = request;
    let text: string;
    let failure = result.ok ? undefined : result.error;
    try {
      text = JSON.stringify(
        result.ok
          ? { type: "res", id, ok: true, payload: result.payload }
          : { type: "res", id, ok: false, error: result.error },
      );
    } catch (error) {
      // A payload JSON cannot encode (a cycle, a BigInt) is a handler bug, not the caller's.
      failure = toRpcError(error, { logger, method });
      text = JSON.stringify({ type: "res", id, ok: false, error: failure });
    }
    sendText(connection, text);
    logRequest(connection, request, failure);
  }

  function broadcast(event: string, payload?: unknown): void {
    seq += 1;
    const frame: Record<string, unknown> = { type: "event", event };
    if (payload !== undefined) frame.payload = payload;
    frame.seq = seq;
    const text = JSON.stringify(frame);
    for (const connection of connections) {
      if (connection.phase === "open") sendText(connection, text);
    }
  }

  function sendToSubscribers(topic: string, event: string, payload?: unknown): void {
    let text: string | undefined;
    for (const connection of connections) {
      if (connection.phase !== "open" || !connection.subscriptions.has(topic)) continue;
      text ??= JSON.stringify(
        payload === undefined ? { type: "event", event } : { type: "event", event, payload },
      );
      sendText(connection, text);
    }
  }

  function advertisedEvents(): string[] {
    return [...new Set<string>([...GATEWAY_EVENTS, ...registry.declaredEvents()])];
  }

  function onConnection(socket: WebSocket, request: IncomingMessage): void {
    const connection: Connection = {
      connId: randomUUID(),
      socket,
      request,
      isLoopback: settings.isLoopback(request),
      nonce: randomUUID(),
      phase: "handshake",
      client: undefined,
      inFlight: 0,
      subscriptions: new Set(),
      queued: [],
      handshakeTimer: undefined,
      connectStartedAt: 0,
    };
    connections.add(connection);
    connection.handshakeTimer = setTimeout(() => {
      if (connection.phase === "handshake" || connection.phase === "authenticating") {
        logger.debug("handshake timed out", { connId: connection.connId });
        closeConnection(connection, 1008, "handshake timeout");
      }
    }, settings.handshakeTimeoutMs);

    socket.on("message", (data, isBinary) => onMessage(connection, data, isBinary));
    socket.on("error", (error) => {
      // ws reports protocol violations (an oversized frame: 1009) here and closes the socket.
      logger.debug("socket error", { connId: connection.connId, error: error.message });
    });
    socket.on("close", () => {
      connection.phase = "closed";
      clearTimeout(connection.handshakeTimer);
      connection.queued = [];
      connection.subscriptions.clear();
      connections.delete(connection);
    });

    send(connection, {
      type: "event",
      event: "connect.challenge",
      payload: { nonce: connection.nonce, ts: settings.now() },
    });
  }

  function onMessage(connection: Connection, data: RawData, isBinary: boolean): void {
    switch (connection.phase) {
      case "handshake":
        connection.phase = "authenticating";
        connection.connectStartedAt = performance.now();
        track(
          handleConnect(connection, data, isBinary).catch((error: unknown) => {
            if (connection.phase !== "authenticating") return;
            const rpcError = toRpcError(error, { logger, method: "connect" });
            refuseHandshake(connection, frameId(parseJson(data)?.value), rpcError, {
              closeCode: 1011,
            });
          }),
        );
        return;
      case "authenticating":
        if (connection.queued.length >= settings.maxInFlight) {
          closeConnection(connection, 1008, "too many frames before hello-ok");
          return;
        }
        connection.queued.push({ data, isBinary });
        return;
      case "open":
        onRequestFrame(connection, data, isBinary);
        return;
      case "closed":
        return;
    }
  }

  async function handleConnect(
    connection: Connection,
    data: RawData,
    isBinary: boolean,
  ): Promise<void> {
    // Before the handshake the captured gateway answers nothing to a frame it cannot read: it
    // closes 1000 for non-JSON and 1008 for JSON that is not a request.
    if (isBinary) {
      closeConnection(connection, 1008, "invalid request frame");
      return;
    }
    const parsed = parseJson(data);
    if (parsed === undefined) {
      closeConnection(connection, 1000, "");
      return;
    }
    const frame = RequestFrameSchema.safeParse(parsed.value);
    if (!frame.success) {
      closeConnection(connection, 1008, "invalid request frame");
      return;
    }
    const { id, method, params } = frame.data;
    if (method !== "connect") {
      refuseHandshake(
        connection,
        id,
        {
          code: ERROR_CODES.INVALID_REQUEST,
          message: "invalid handshake: first request must be connect",
        },
        { method },
      );
      return;
    }

    const validated = validateParams("connect", ConnectParamsSchema, params);
    if (!validated.ok) {
      refuseHandshake(connection, id, {
        code: ERROR_CODES.INVALID_REQUEST,
        message: validated.message,
      });
      return;
    }
    const connect = validated.value;
    const protocol = negotiateProtocolVersion(connect.minProtocol, connect.maxProtocol);
    if (protocol === null) {
      refuseHandshake(
        connection,
        id,
        {
          code: ERROR_CODES.INVALID_REQUEST,
          message: "protocol mismatch",
          details: { expectedProtocol: PROTOCOL_VERSION },
        },
        { closeCode: 1002 },
      );
      return;
    }
    const role = connect.role ?? "operator";
    if (!(GATEWAY_ROLES as readonly string[]).includes(role)) {
      refuseHandshake(connection, id, {
        code: ERROR_CODES.INVALID_REQUEST,
        message: "invalid role",
      });
      return;
    }
    const scopes = [...new Set(connect.scopes ?? [])];

    const authorized = await authenticate(connection, id, connect, role, scopes);
    if (authorized === undefined || connection.phase !== "authenticating") return;

    const client: ConnectedClient = {
      connId: connection.connId,
      role,
      scopes,
      client: {
        id: connect.client.id,
        version: connect.client.version,
        platform: connect.client.platform,
        mode: connect.client.mode,
        ...(connect.client.displayName === undefined
          ? {}
          : { displayName: connect.client.displayName }),
        ...(connect.client.instanceId === undefined
          ? {}
          : { instanceId: connect.client.instanceId }),
      },
      ...(connect.device === undefined ? {} : { deviceId: connect.device.id }),
    };
    const hello: HelloOk = {
      type: "hello-ok",
      protocol,
      server: { version: GATEWAY_VERSION, host: hostname(), connId: connection.connId },
      features: { methods: registry.advertisedMethods(), events: advertisedEvents() },
      snapshot: {
        presence: [],
        health: {},
        stateVersion: { presence: 0, health: 0 },
        uptimeMs: uptimeMs(),
        ...(options.configPath === undefined ? {} : { configPath: options.configPath }),
        stateDir,
        sessionDefaults: settings.sessionDefaults,
      },
      ...(authorized.grant === undefined
        ? {}
        : {
            auth: {
              deviceToken: authorized.grant.token,
              role: authorized.grant.role,
              scopes: authorized.grant.scopes,
              issuedAtMs: authorized.grant.issuedAtMs,
            },
          }),
      policy: {
        maxPayload: settings.maxPayload,
        maxBufferedBytes: settings.maxBufferedBytes,
        tickIntervalMs: settings.tickIntervalMs,
      },
    };
    connection.client = client;
    connection.phase = "open";
    clearTimeout(connection.handshakeTimer);
    send(connection, { type: "res", id, ok: true, payload: hello });
    logRequest(
      connection,
      { id, method: "connect", startedAtMs: connection.connectStartedAt },
      undefined,
    );
    logger.debug("client connected", {
      connId: connection.connId,
      client: client.client.id,
      role,
      device: client.deviceId,
    });
    const queued = connection.queued;
    connection.queued = [];
    for (const frame of queued) onRequestFrame(connection, frame.data, frame.isBinary);
  }

  /**
   * Decides whether the connect may proceed (gateway-wire §2). Without a device only the shared
   * token admits; with one, its proof is checked first, then the shared token or the device's
   * own token, then its pairing. Refuses the handshake itself and returns `undefined` on failure.
   */
  async function authenticate(
    connection: Connection,
    id: string,
    connect: ConnectParams,
    role: string,
    scopes: string[],
  ): Promise<{ grant: DeviceTokenRecord | undefined } | undefined> {
    const authToken = connect.auth?.token;
    const sharedOk = authToken !== undefined && secretsEqual(authToken, token);
    const device = connect.device;
    if (device === undefined) {
      if (sharedOk) return { grant: undefined };
      // As captured: a token that does not match is named as such; with no token at all the
      // client is told it needs a device identity.
      refuseHandshake(
        connection,
        id,
        authToken === undefined || authToken === ""
          ? { code: ERROR_CODES.NOT_PAIRED, message: "device identity required" }
          : {
              code: ERROR_CODES.INVALID_REQUEST,
              message: `unauthorized: gateway token mismatch (${TOKEN_HINT})`,
            },
      );
      return undefined;
    }

    const proof = verifyDeviceProof(device, {
      challengeNonce: connection.nonce,
      isLoopback: connection.isLoopback,
      now: settings.now(),
      clientId: connect.client.id,
      clientMode: connect.client.mode,
      role,
      scopes: connect.scopes ?? [],
      token: authToken,
    });
    if (!proof.ok) {
      refuseHandshake(connection, id, {
        code: ERROR_CODES.INVALID_REQUEST,
        message: proof.message,
      });
      return undefined;
    }

    const deviceTokenOk =
      !sharedOk &&
      authToken !== undefined &&
      authToken !== "" &&
      (await devices.verifyDeviceToken(device.id, authToken, role, scopes));
    if (!sharedOk && !deviceTokenOk) {
      const reason = authToken === undefined || authToken === "" ? "missing" : "mismatch";
      refuseHandshake(connection, id, {
        code: ERROR_CODES.INVALID_REQUEST,
        message: `unauthorized: gateway token ${reason} (${TOKEN_HINT})`,
      });
      return undefined;
    }

    const pairing = await devices.ensurePaired(
      {
        deviceId: device.id,
        publicKey: device.publicKey,
        role,
        scopes,
        clientId: connect.client.id,
        clientMode: connect.client.mode,
        platform: connect.client.platform,
        ...(connect.client.displayName === undefined
          ? {}
          : { displayName: connect.client.displayName }),
        ...(connection.request.socket.remoteAddress === undefined
          ? {}
          : { remoteAddress: connection.request.socket.remoteAddress }),
      },
      connection.isLoopback,
    );
    if (pairing.status === "pending") {
      logger.info("device pairing requested", {
        deviceId: device.id,
        requestId: pairing.requestId,
      });
      refuseHandshake(connection, id, {
        code: ERROR_CODES.NOT_PAIRED,
        message: "pairing required",
        details: { requestId: pairing.requestId },
      });
      return undefined;
    }
    if (pairing.autoApproved) logger.info("device pairing auto-approved", { deviceId: device.id });
    const grant = await devices.issueDeviceToken(device.id, role, scopes);
    return { grant };
  }

  function onRequestFrame(connection: Connection, data: RawData, isBinary: boolean): void {
    if (connection.phase !== "open" || connection.client === undefined) return;
    const startedAtMs = performance.now();
    const refuse = (id: string, method: string | undefined, error: RpcError) => {
      sendError(connection, id, error);
      logRequest(connection, { id, method, startedAtMs }, error);
    };
    const invalid = (id: string, details: string) =>
      refuse(id, undefined, {
        code: ERROR_CODES.INVALID_REQUEST,
        message: `invalid request frame: ${details}`,
      });
    if (isBinary) {
      invalid("invalid", "binary frames are not supported");
      return;
    }
    const parsed = parseJson(data);
    if (parsed === undefined) {
      invalid("invalid", "not valid JSON");
      return;
    }
    const frame = RequestFrameSchema.safeParse(parsed.value);
    if (!frame.success) {
      invalid(
        frameId(parsed.value),
        formatValidationIssues(frame.error.issues, { input: parsed.value }),
      );
      return;
    }
    const request = frame.data;
    if (request.method === "connect") {
      refuse(request.id, request.method, {
        code: ERROR_CODES.INVALID_REQUEST,
        message: "connect is only valid as the first request",
      });
      return;
    }
    if (closing) {
      refuse(request.id, request.method, {
        code: ERROR_CODES.UNAVAILABLE,
        message: "gateway stopping",
        retryable: true,
      });
      return;
    }
    if (connection.inFlight >= settings.maxInFlight) {
      refuse(request.id, request.method, {
        code: ERROR_CODES.UNAVAILABLE,
        message: `too many requests in flight (limit ${settings.maxInFlight})`,
        retryable: true,
      });
      return;
    }
    connection.inFlight += 1;
    const client = connection.client;
    track(
      registry
        .dispatch(
          { id: request.id, method: request.method, params: request.params },
          { client, logger, emit: broadcast, subscriptions: connection.subscriptions },
        )
        .then((result) =>
          sendResult(connection, { id: request.id, method: request.method, startedAtMs }, result),
        )
        .finally(() => {
          connection.inFlight -= 1;
        }),
    );
  }

  async function waitForWork(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (pendingWork.size > 0) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) return false;
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, remaining);
      });
      await Promise.race([Promise.allSettled([...pendingWork]), timeout]);
      clearTimeout(timer);
    }
    return true;
  }

  async function waitForSockets(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (wss.clients.size > 0 && Date.now() < deadline) {
      await new Promise<void>((resolve) => setTimeout(resolve, 10));
    }
    for (const socket of wss.clients) socket.terminate();
  }

  async function stop(closeOptions: CloseGatewayOptions): Promise<void> {
    closing = true;
    clearInterval(tickTimer);
    const serverClosed = new Promise<void>((resolve) => {
      if (!httpServer.listening) {
        resolve();
        return;
      }
      httpServer.close(() => resolve());
    });
    for (const connection of connections) {
      if (connection.phase !== "open") closeConnection(connection, 1012, "service restart");
    }
    if (!(await waitForWork(settings.shutdownTimeoutMs))) {
      logger.warn("requests still running at shutdown", { count: pendingWork.size });
    }
    broadcast("shutdown", {
      reason: closeOptions.reason ?? "gateway stopping",
      restartExpectedMs: closeOptions.restartExpectedMs ?? null,
    });
    for (const connection of connections) closeConnection(connection, 1012, "service restart");
    await waitForSockets(2000);
    await new Promise<void>((resolve) => wss.close(() => resolve()));
    await serverClosed;
  }

  return {
    get address() {
      return address;
    },

    health,

    async listen() {
      if (address !== undefined) return address;
      await new Promise<void>((resolve, reject) => {
        const onError = (error: Error) => reject(error);
        httpServer.once("error", onError);
        httpServer.listen(settings.port, settings.host, () => {
          httpServer.off("error", onError);
          resolve();
        });
      });
      httpServer.on("error", (error) => logger.error("server error", { error: error.message }));
      const bound = httpServer.address() as AddressInfo;
      address = {
        host: settings.host,
        port: bound.port,
        url: formatGatewayUrl(settings.host, bound.port),
      };
      tickTimer = setInterval(
        () => broadcast("tick", { ts: settings.now() }),
        settings.tickIntervalMs,
      );
      tickTimer.unref();
      return address;
    },

    broadcast,

    sendToSubscribers,

    close(closeOptions = {}) {
      closePromise ??= stop(closeOptions);
      return closePromise;
    },
  };
}
