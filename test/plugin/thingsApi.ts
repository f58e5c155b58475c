// A tiny REST API for fixture providers: POST /things, GET|PUT|DELETE /things/:id. Records every
// request so tests can assert what the provider actually sent.
import * as http from "http";
import { AddressInfo } from "net";

export interface Thing {
    id: string;
    name: string;
    description: string;
    revision: number;
}

export interface ThingsApi {
    url: string;
    things: Map<string, Thing>;
    requests: { method: string; path: string; body: string }[];
    stop(): Promise<void>;
}

export async function startThingsApi(): Promise<ThingsApi> {
    const things = new Map<string, Thing>();
    const requests: ThingsApi["requests"] = [];
    let next = 1;
    const server = http.createServer((req, res) => {
        let body = "";
        req.setEncoding("utf8");
        req.on("data", (d: string) => (body += d));
        req.on("end", () => {
            const method = req.method ?? "";
            const path = req.url ?? "";
            requests.push({ method, path, body });
            const send = (status: number, value?: unknown) => {
                res.writeHead(status, { "content-type": "application/json" });
                res.end(value === undefined ? "" : JSON.stringify(value));
            };
            const m = /^\/things(?:\/([^/]+))?$/.exec(path);
            if (!m) return send(404, { error: "no such route" });
            const id = m[1];
            const input = body ? (JSON.parse(body) as Partial<Thing>) : {};
            if (!id && method === "POST") {
                const t: Thing = { id: `thing-${next++}`, name: String(input.name), description: String(input.description ?? ""), revision: 1 };
                things.set(t.id, t);
                return send(201, t);
            }
            const t = id ? things.get(id) : undefined;
            if (!t) return send(404, { error: `no thing ${id}` });
            if (method === "GET") return send(200, t);
            if (method === "PUT") {
                t.description = String(input.description ?? "");
                t.revision += 1;
                return send(200, t);
            }
            if (method === "DELETE") {
                things.delete(t.id);
                return send(204);
            }
            send(405, { error: method });
        });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    return {
        url: `http://127.0.0.1:${port}`,
        things,
        requests,
        stop: () =>
            new Promise<void>((resolve) => {
                server.closeAllConnections();
                server.close(() => resolve());
            }),
    };
}
