// What KmsKeyRing's diff decides, as a pure function of the stored outputs and the new inputs (tests call it
// directly): a new id or another instance replaces the ring, the API key and force update in place.
import { UNKNOWN } from "../core/props";
import { diffKmsInstance, KmsInstanceFields } from "./instance";

/** The fields of a key ring's state and inputs the diff compares. */
export interface KeyRingDiffFields extends KmsInstanceFields {
    keyRingId?: string;
    force?: boolean;
    apiKey?: string;
}

/** What `diff` decides (pure). */
export function diffKmsKeyRing(olds: KeyRingDiffFields, news: KeyRingDiffFields): { changes: boolean; replaces: string[]; updates: string[] } {
    const target = diffKmsInstance(olds, news);
    const replaces = [...(news.keyRingId === UNKNOWN || olds.keyRingId !== news.keyRingId ? ["keyRingId"] : []), ...target.replaces];
    const updates = [
        ...(news.apiKey === UNKNOWN || olds.apiKey !== news.apiKey ? ["apiKey"] : []),
        ...((news.force ?? false) !== (olds.force ?? false) ? ["force"] : []),
        ...target.updates,
    ];
    return { changes: replaces.length > 0 || updates.length > 0, replaces, updates };
}
