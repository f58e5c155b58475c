// A tiny scripted HTTP server on loopback for transport-level tests (retries, timeouts, resets).
// Each request is recorded; the handler for request n is `script[n]` (the last one repeats).
import * as http from "http";
import { AddressInfo } from "net";

export interface SeenRequest {
    method: string;
    url: string;
    headers: http.IncomingHttpHeaders;
    body: string;
}

export type Handler = (req: SeenRequest, res: http.ServerResponse, raw: http.IncomingMessage) => void;

export interface LocalServer {
    url: string;
    seen: SeenRequest[];
    /** Replaces the script; the next request gets its first handler (`seen` keeps growing). */
    setScript(script: Handler[]): void;
    stop(): Promise<void>;
}

export function json(status: number, body: unknown, headers: http.OutgoingHttpHeaders = {}): Handler {
    return (_req, res) => {
        const text = body === undefined ? "" : JSON.stringify(body);
        res.writeHead(status, { "content-type": "application/json", ...headers });
        res.end(text);
    };
}

/** Kills the connection without answering (after the request was fully read). */
export const reset: Handler = (_req, _res, raw) => {
    raw.socket.destroy();
};

/** Never answers (the client's timeout must fire). */
export const hang: Handler = () => undefined;

export async function startLocalServer(script: Handler[]): Promise<LocalServer> {
    let current = script;
    let offset = 0;
    const seen: SeenRequest[] = [];
    const server = http.createServer((raw, res) => {
        const chunks: Buffer[] = [];
        raw.on("data", (c: Buffer) => chunks.push(c));
        raw.on("end", () => {
            const req: SeenRequest = { method: raw.method ?? "", url: raw.url ?? "", headers: raw.headers, body: Buffer.concat(chunks).toString("utf8") };
            const index = seen.length - offset;
            seen.push(req);
            const handler = current[Math.min(index, current.length - 1)];
            handler(req, res, raw);
        });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as AddressInfo).port;
    return {
        url: `http://127.0.0.1:${port}`,
        seen,
        setScript(s: Handler[]) {
            current = s;
            offset = seen.length;
        },
        stop() {
            server.closeAllConnections();
            return new Promise<void>((resolve) => server.close(() => resolve()));
        },
    };
}

/** A port on which nothing listens. */
export async function closedPort(): Promise<number> {
    const server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as AddressInfo).port;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    return port;
}
