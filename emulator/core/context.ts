// What a route handler gets of the running emulator: the account's state, the token signer and the few settings
// handlers read. Never the HTTP server, the router or the fault injector (the admin routes get those through
// their own, wider context): so no handler imports the file that assembles the emulator (../app.ts).
import type { TokenSigner } from "./jwt";
import type { StateStore } from "./state";

export interface EmulatorContext {
    /** The account: service IDs, API keys, policies, KMS instances, keys and rings (written to the state file on save). */
    readonly store: StateStore;
    /** Signs and verifies access tokens, refresh tokens and source-service tokens. */
    readonly signer: TokenSigner;
    readonly tokenLifetimeSeconds: number;
    readonly refreshTokenLifetimeSeconds: number;
    /** A new or changed policy takes effect only this long after the write. */
    readonly policyPropagationDelayMs: number;
    /** Token exchanges served since start (`GET /__emulator/state` shows the count). */
    tokenRequests: number;
}

/** Identity and KMS handlers: the account's state, nothing else. */
export type StoreContext = Pick<EmulatorContext, "store">;

/** The token service: state, signer and token lifetimes, and the exchange counter. */
export type TokenContext = Pick<EmulatorContext, "store" | "signer" | "tokenLifetimeSeconds" | "refreshTokenLifetimeSeconds" | "tokenRequests">;

/** Policy Management: state and the propagation delay of policy writes. */
export type PolicyContext = Pick<EmulatorContext, "store" | "policyPropagationDelayMs">;
