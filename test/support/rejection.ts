// The error a promise rejects with (a test's "this must fail, and say why").
export async function rejection<E extends Error = Error & { details: string }>(p: Promise<unknown>): Promise<E> {
    try {
        await p;
    } catch (e) {
        return e as E;
    }
    throw new Error("expected a rejection");
}
