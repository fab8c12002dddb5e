/**
 * `npm run bench -- crypto`: throughput of the payment cryptography an issuer host and a terminal run per
 * transaction — raw 3DES blocks, the PBOC DES-MAC, the retail MAC, ARQC generation and verification from the
 * issuer master key, CMAC, and RSA-1024 (private operations; public operation BigInt vs node:crypto).
 */
import { constants, createPublicKey, publicEncrypt } from "node:crypto";
import { concat, fromHex } from "../src/core/bytes.js";
import {
  arqc,
  arqcMatches,
  cipher,
  cmac,
  ecbEncrypt,
  emvOptionA,
  generateRsaKey,
  pbocMac,
  pbocSessionKey,
  retailMac,
  rsaPrivate,
  rsaPublic,
  type RsaKeyPair,
} from "../src/crypto/index.js";
import { fmt, table, throughput, timeIt } from "./stats.js";

export async function run(): Promise<void> {
  const k16 = fromHex("0123456789ABCDEFFEDCBA9876543210");
  const block = fromHex("1122334455667788");
  const k8 = fromHex("9B1D924E05595603");
  const mac1Data = fromHex("00000000 00001000 01 001122334455"); // PBOC load MAC1 input, 15 bytes
  // PBOC CVN 01 AC data (37 bytes), from the PBOC blog vector.
  const acData = fromHex("000000000001000000000000015600800460000156140701001E78EEBC7D00024003A04002");
  const imk = fromHex("F0C34A8124CEE0A91A0B034AA97D6EAC");
  const sk = pbocSessionKey(emvOptionA(imk, "6228000100001", "01"), 0x0240);
  const ac = arqc(sk, acData);
  const aesKey = fromHex("2B7E151628AED2A6ABF7158809CF4F3C");
  const scp03Data = new Uint8Array(64);
  const tdes = cipher("3des");

  const rsa3 = generateRsaKey(1024, 3);
  const rsaF4 = generateRsaKey(1024, 65537);
  const message = (k: RsaKeyPair) =>
    concat(Uint8Array.of(0x6a), new Uint8Array(k.modulus.length - 1).fill(0x5a));
  const sig3 = rsaPrivate(rsa3, message(rsa3));
  const sigF4 = rsaPrivate(rsaF4, message(rsaF4));
  const viaKeyObject = (k: RsaKeyPair, sig: Uint8Array) => {
    const key = createPublicKey({
      key: {
        kty: "RSA",
        n: Buffer.from(k.modulus).toString("base64url"),
        e: Buffer.from(k.exponent).toString("base64url"),
      },
      format: "jwk",
    });
    return publicEncrypt({ key, padding: constants.RSA_NO_PADDING }, sig);
  };

  const cases: [string, () => unknown, number][] = [
    ["3DES block (2-key, one 8-byte block)", () => tdes.encryptBlock(k16, block), 20_000],
    [
      "3DES ECB, 2 blocks (option A / session key step)",
      () => ecbEncrypt("3des", k16, acData.subarray(0, 16)),
      20_000,
    ],
    ["DES-MAC (PBOC MAC1, 15 bytes, SESLK)", () => pbocMac("des", k8, mac1Data), 20_000],
    ["retail MAC (ISO 9797-1 alg 3, 37 bytes)", () => retailMac(sk, acData, "m2"), 20_000],
    ["ARQC generation (retail MAC, 37 bytes)", () => arqc(sk, acData), 20_000],
    [
      "ARQC verify from IMK (option A + PBOC SK + MAC)",
      () => arqcMatches(pbocSessionKey(emvOptionA(imk, "6228000100001", "01"), 0x0240), acData, ac),
      10_000,
    ],
    ["AES-CMAC (64 bytes, SCP03-size)", () => cmac("aes", aesKey, scp03Data), 20_000],
    ["RSA-1024 private op (e=3)", () => rsaPrivate(rsa3, message(rsa3)), 500],
    ["RSA-1024 private op (e=65537)", () => rsaPrivate(rsaF4, message(rsaF4)), 500],
    ["RSA-1024 public op, BigInt (e=3)", () => rsaPublic(rsa3, sig3), 5_000],
    ["RSA-1024 public op, JWK→KeyObject (e=3)", () => viaKeyObject(rsa3, sig3), 5_000],
    ["RSA-1024 public op, BigInt (e=65537)", () => rsaPublic(rsaF4, sigF4), 5_000],
    ["RSA-1024 public op, JWK→KeyObject (e=65537)", () => viaKeyObject(rsaF4, sigF4), 5_000],
  ];

  const rows: (string | number)[][] = [];
  for (const [name, fn, n] of cases) {
    const t = await timeIt(fn, n);
    const perSecond = throughput(fn, n <= 500 ? 800 : 400);
    rows.push([name, fmt(t.p50, 2), fmt(t.p99, 2), Math.round(perSecond).toLocaleString("en-US")]);
  }
  console.log(`node ${process.version}, one core; latency in µs per call, throughput from a tight loop`);
  table(["operation", "p50 µs", "p99 µs", "ops/s"], rows);
}
