// client/envelope.ts against NIST's known answers (the AES-256 test cases 13–16 of McGrew & Viega's
// GCM specification, the vectors NIST SP 800-38D's validation uses), and the sealed form's properties.
import * as assert from "assert";
import { open, seal } from "../../client/envelope";
import { gcmDecrypt, gcmEncrypt } from "../../client/gcm";

const hex = (s: string) => Buffer.from(s, "hex");
const K15 = "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308";
const P15 = "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255";
const C15 = "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad";

const VECTORS = [
    { name: "test case 13 (empty)", key: "00".repeat(32), iv: "00".repeat(12), p: "", aad: "", c: "", tag: "530f8afbc74536b9a963b4f1c4cb738b" },
    {
        name: "test case 14 (one zero block)",
        key: "00".repeat(32),
        iv: "00".repeat(12),
        p: "00".repeat(16),
        aad: "",
        c: "cea7403d4d606b6e074ec5d3baf39d18",
        tag: "d0d1c8a799996bf0265b98b5d48ab919",
    },
    { name: "test case 15 (four blocks)", key: K15, iv: "cafebabefacedbaddecaf888", p: P15, aad: "", c: C15, tag: "b094dac5d93471bdec1a502270e3cc6c" },
    {
        name: "test case 16 (60 bytes with AAD)",
        key: K15,
        iv: "cafebabefacedbaddecaf888",
        p: P15.slice(0, 120),
        aad: "feedfacedeadbeeffeedfacedeadbeefabaddad2",
        c: C15.slice(0, 120),
        tag: "76fc6ece0f4e1768cddf8853bb2d551b",
    },
];

describe("client/envelope: AES-256-GCM for envelope encryption", function () {
    for (const v of VECTORS) {
        it(`NIST known answer, ${v.name}`, () => {
            const aad = v.aad ? hex(v.aad) : undefined;
            const out = gcmEncrypt(hex(v.key), hex(v.iv), hex(v.p), aad);
            assert.deepStrictEqual([out.ciphertext.toString("hex"), out.tag.toString("hex")], [v.c, v.tag]);
            assert.strictEqual(gcmDecrypt(hex(v.key), hex(v.iv), hex(v.c), hex(v.tag), aad).toString("hex"), v.p);
        });
    }

    it("seal uses a fresh 96-bit nonce per message and opens with the same key and AAD only", () => {
        const key = Buffer.alloc(32, 7);
        const a = seal(key, Buffer.from("hello"), Buffer.from("order-1"));
        const b = seal(key, Buffer.from("hello"), Buffer.from("order-1"));
        assert.strictEqual(a.length, 12 + 5 + 16);
        assert.notDeepStrictEqual(a.subarray(0, 12), b.subarray(0, 12), "a new nonce each time");
        assert.strictEqual(open(key, a, Buffer.from("order-1")).toString(), "hello");
        assert.throws(() => open(key, a, Buffer.from("order-2")), /does not authenticate/);
        assert.throws(() => open(Buffer.alloc(32, 8), a, Buffer.from("order-1")), /does not authenticate/);
        const flipped = Buffer.from(a);
        flipped[14] ^= 1;
        assert.throws(() => open(key, flipped, Buffer.from("order-1")), /does not authenticate/);
        assert.throws(() => open(key, a.subarray(0, 20)), /at least 28 bytes/);
    });

    it("refuses a data key that is not 32 bytes, without showing it", () => {
        const short = Buffer.from("secret-data-key-of-24-by");
        assert.throws(
            () => seal(short, Buffer.from("x")),
            (e: Error) => /needs a 32-byte data key; got 24 bytes/.test(e.message) && !e.message.includes(short.toString()),
        );
    });
});
