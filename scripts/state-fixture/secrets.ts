// What a state-fixture run must never print or write: the owner key and every secret of the stack. The
// values live in memory only; failed commands' output and log lines go through `redact`.
import * as pulumi from "@pulumi/pulumi";

export class SecretValues {
    private readonly values = new Set<string>();

    constructor(initial: Iterable<string> = []) {
        for (const v of initial) this.add(v);
    }

    add(value: string): void {
        if (value) this.values.add(value);
    }

    get size(): number {
        return this.values.size;
    }

    /** How many of the values occur in `text`. */
    countIn(...texts: string[]): number {
        return [...this.values].filter((s) => texts.some((t) => t.includes(s))).length;
    }

    redact(text: string): string {
        let out = text;
        for (const s of this.values) out = out.split(s).join("[secret]");
        return out;
    }
}

/** Plaintexts (≥ 8 characters) of every secret of a checkpoint exported WITH --show-secrets. */
export function secretPlaintexts(node: unknown, out: Set<string> = new Set()): Set<string> {
    const collect = (x: unknown): void => {
        if (typeof x === "string" && x.length >= 8) out.add(x);
        else if (x && typeof x === "object") for (const y of Object.values(x)) collect(y);
    };
    if (Array.isArray(node)) {
        for (const v of node) secretPlaintexts(v, out);
    } else if (node && typeof node === "object") {
        const o = node as Record<string, unknown>;
        if (o[pulumi.runtime.specialSigKey] !== undefined && "plaintext" in o) {
            let v: unknown = o.plaintext;
            try {
                v = typeof v === "string" ? JSON.parse(v) : v;
            } catch {
                // not JSON: the text itself
            }
            collect(v);
        } else {
            for (const v of Object.values(o)) secretPlaintexts(v, out);
        }
    }
    return out;
}
