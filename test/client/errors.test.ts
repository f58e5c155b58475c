import * as assert from "assert";
import { IbmCloudError, InputError, parseErrorBody, redact, isNotFound, isPolicyConflict, isEtagMismatch, isRetryableStatus } from "../../client";

// A JWT-shaped string (header.payload.signature), as IAM issues.
const JWT = "eyJraWQiOiIyMDIzMDgwOTA4MzQiLCJhbGciOiJSUzI1NiJ9.eyJpYW1faWQiOiJpYW0tU2VydmljZUlkLTEyMyJ9.c2lnbmF0dXJlLXNpZ25hdHVyZQ";
const API_KEY = "0123456789abcdefghijABCDEFGHIJ_-klmnopqrstu";

describe("errors: parsing IBM's three envelopes", () => {
    it("token endpoint: keeps BXNIM code, IBM's message and the request id", () => {
        const p = parseErrorBody({
            errorCode: "BXNIM0415E",
            errorMessage: "Provided API key could not be found.",
            context: { requestId: "req-1234", requestType: "incoming.Identity_Token", url: "https://iam.cloud.ibm.com" },
        });
        assert.deepStrictEqual([p.messageCode, p.ibmMessage, p.traceId], ["BXNIM0415E", "Provided API key could not be found.", "req-1234"]);
        const err = new IbmCloudError({ operation: "get IAM access token", status: 400, ...p });
        assert.strictEqual(err.message, "get IAM access token failed: 400 (BXNIM0415E): Provided API key could not be found. [trace req-1234]");
    });

    it("IAM identity: code, message code, message and trace in the documented format", () => {
        const p = parseErrorBody({
            errors: [{ code: "entity_locked", message_code: "BXNIM0511E", message: "The service ID is locked.", more_info: "https://cloud.ibm.com/docs" }],
            status_code: 409,
            trace: "9f8e7d6c5b4a39281706f5e4d3c2b1a0",
        });
        const err = new IbmCloudError({ operation: "create service ID", status: 409, ...p });
        assert.strictEqual(
            err.message,
            "create service ID failed: 409 entity_locked (BXNIM0511E): The service ID is locked. [trace 9f8e7d6c5b4a39281706f5e4d3c2b1a0]",
        );
        assert.strictEqual(err.code, "entity_locked");
        assert.strictEqual(err.messageCode, "BXNIM0511E");
        assert.strictEqual(err.ibmMessage, "The service ID is locked.");
        assert.strictEqual(err.moreInfo, "https://cloud.ibm.com/docs");
    });

    it("policy conflict: exposes the existing policy's id and etag", () => {
        const p = parseErrorBody({
            errors: [
                {
                    code: "policy_conflict_error",
                    message: "Failed to create policy.",
                    details: { conflicts_with: { etag: "1-abc", policy: { id: "8f2e-policy", type: "access" } } },
                },
            ],
            status_code: 409,
            trace: "t-1",
        });
        const err = new IbmCloudError({ operation: "create access policy", status: 409, ...p });
        assert.strictEqual(err.conflictingPolicyId, "8f2e-policy");
        assert.strictEqual(err.conflictingPolicyEtag, "1-abc");
        assert.ok(isPolicyConflict(err));
        assert.match(err.message, /existing policy 8f2e-policy/);
    });

    it("KMS: reason code, errorMsg and reason message", () => {
        const p = parseErrorBody({
            metadata: { collectionType: "application/vnd.ibm.kms.error+json", collectionTotal: 1 },
            resources: [
                {
                    errorMsg: "Not Found: Key could not be found",
                    reasons: [{ code: "KEY_NOT_FOUND_ERR", message: "Key does not exist", status: 404, moreInfo: "https://cloud.ibm.com/apidocs/hs-crypto" }],
                },
            ],
        });
        assert.strictEqual(p.code, "KEY_NOT_FOUND_ERR");
        assert.strictEqual(p.ibmMessage, "Not Found: Key could not be found: Key does not exist");
        assert.strictEqual(p.kmsReasons?.[0].status, 404);
        const err = new IbmCloudError({ operation: "get KMS key", status: 404, ...p });
        assert.ok(isNotFound(err));
        assert.match(err.message, /^get KMS key failed: 404 KEY_NOT_FOUND_ERR: Not Found/);
    });

    it("unknown shapes and text bodies still yield a message; nothing yields nothing", () => {
        assert.strictEqual(parseErrorBody({ message: "upstream gone" }).ibmMessage, "upstream gone");
        assert.strictEqual(parseErrorBody("<html>Bad gateway</html>").ibmMessage, "<html>Bad gateway</html>");
        assert.deepStrictEqual(parseErrorBody(null), {});
        assert.deepStrictEqual(parseErrorBody(""), {});
    });
});

describe("errors: classification helpers", () => {
    it("retryable statuses are 429, 500 and 502-599, never 501 or 4xx", () => {
        assert.deepStrictEqual([429, 500, 502, 503, 504, 599].map(isRetryableStatus), [true, true, true, true, true, true]);
        assert.deepStrictEqual([400, 401, 404, 409, 412, 501].map(isRetryableStatus), [false, false, false, false, false, false]);
    });
    it("etag mismatch is 412, or 409 with a tag code; a lock conflict is not", () => {
        assert.ok(isEtagMismatch(new IbmCloudError({ operation: "x", status: 412 })));
        assert.ok(isEtagMismatch(new IbmCloudError({ operation: "x", status: 409, code: "entity_tag_mismatch" })));
        assert.ok(!isEtagMismatch(new IbmCloudError({ operation: "x", status: 409, code: "entity_locked" })));
    });
});

describe("errors: redaction", () => {
    it("removes known secrets, their URL-encoded form, JWTs and bearer credentials", () => {
        const plus = "abc+def/ghi=jkl_0123456789";
        const text = `key ${API_KEY} enc ${encodeURIComponent(plus)} raw ${plus} token ${JWT} header Authorization: Bearer abc.def-ghi`;
        const out = redact(text, [API_KEY, plus]);
        assert.ok(!out.includes(API_KEY));
        assert.ok(!out.includes(plus) && !out.includes(encodeURIComponent(plus)));
        assert.ok(!out.includes(JWT.split(".")[1]));
        assert.ok(!out.includes("abc.def-ghi"));
        assert.match(out, /Bearer \[REDACTED\]/);
    });

    it("scrubs secret-named fields in echoed bodies even when the value is not known", () => {
        const unknownKey = "zZ9yY8xX7wW6vV5uU4tT3sS2rR1qQ0pP_oOnNmMlLk";
        const out = redact(`{"name":"k","apikey":"${unknownKey}"} grant_type=x&apikey=${unknownKey}&response_type=cloud_iam`);
        assert.ok(!out.includes(unknownKey), out);
        assert.match(out, /"name":"k"/, "the rest of the text stays readable");
    });

    it("keeps ordinary IBM messages intact", () => {
        const msg = "Property 'apikey' must be at least 32 characters. Provided API key could not be found.";
        assert.strictEqual(redact(msg), msg);
    });

    it("an IbmCloudError never carries a secret in any field it exposes", () => {
        const err = new IbmCloudError({
            operation: "create API key",
            status: 400,
            code: "invalid_apikey",
            messageCode: "BXNIM0999E",
            ibmMessage: `The API key ${API_KEY} already exists; token ${JWT}`,
            details: `apikey=${API_KEY}`,
            traceId: "t",
            secrets: [API_KEY],
            cause: new Error(`socket hang up while sending ${API_KEY}`),
        });
        const everything = JSON.stringify({ ...err, message: err.message, stack: err.stack, cause: (err as { cause?: unknown }).cause, str: String(err) });
        assert.ok(!everything.includes(API_KEY), everything);
        assert.ok(!everything.includes(JWT.split(".")[1]), everything);
        assert.match(err.message, /already exists/);
    });

    it("InputError names the field and the fix", () => {
        const e = new InputError("ibmcloud:region", `"x" is not a region`, "Use us-south.");
        assert.strictEqual(e.field, "ibmcloud:region");
        assert.strictEqual(e.fix, "Use us-south.");
        assert.match(e.message, /ibmcloud:region.*not a region.*Use us-south/);
    });
});
