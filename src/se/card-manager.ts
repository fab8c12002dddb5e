/**
 * The Issuer Security Domain (card manager, AID A000000151000000): the only way applets get onto, are
 * personalised on, or leave the SE, and only through an SCP03 secure channel (GPC 2.3 + Amendment D).
 *
 *   INITIALIZE UPDATE 80 50 KVN 00 08 <host challenge> → diversification data (the SE serial) ‖ KVN ‖ 03 ‖ 70
 *     ‖ card challenge ‖ card cryptogram ‖ sequence counter (pseudo-random challenge; the counter is in NVM)
 *   EXTERNAL AUTHENTICATE 84 82 <level> 00 10 <host cryptogram> <C-MAC>      (levels 01, 03, 11, 13, 33)
 *   then, C-MAC'd (CLA 84):
 *   INSTALL [for install and make selectable] 80 E6 0C 00 (format in gp.ts)  → 00     needs C-DECRYPTION
 *   INSTALL [for personalization] 80 E6 20 00 00 00 LV(AID) 00 00 00                  needs C-DECRYPTION
 *   STORE DATA 80 E2 P1 P2 DGIs → `Applet.personalize(dgi, data)`; block numbers from 00; the last block
 *     (P1 b8) moves the instance to PERSONALIZED                                       needs C-DECRYPTION
 *   DELETE 80 E4 00 00|80 4F AID → 00: the instance, its data and its registry roles  needs C-DECRYPTION
 *   GET STATUS 80 F2 80|40|20|10 00|02 4F AID → legacy or E3 templates, 6310 paging
 *
 * A wrong C-MAC (a flipped byte, a replayed command — MAC chaining — or a script made for another SE) is
 * answered 6982 and ends the session; commands outside a session are answered 6982.
 */
import { type CommandApdu, type ResponseApdu, response } from "../core/apdu.js";
import {
  type Bytes,
  ascii,
  concat,
  equal,
  equalConstantTime,
  startsWith,
  toHex,
  uintBE,
} from "../core/bytes.js";
import { SW } from "../core/sw.js";
import { type Tlv, tlv } from "../core/tlv.js";
import type { Applet, AppletContext } from "./applet.js";
import {
  CRS_AID,
  GP_INS,
  INSTALL_FOR,
  ISD_AID,
  LIFECYCLE,
  CL_STATE,
  PPSE_NAME,
  STATUS_OF,
  type InstallRequest,
  parseAidCriterion,
  parseDgis,
  parseInstallForInstall,
  parseInstallForPersonalization,
  statusPage,
} from "./gp.js";
import {
  AbortCommand,
  DEFAULT_PAYMENT_KEY,
  EXPRESS_TRANSIT_KEY,
  type InstanceRecord,
  type Kernel,
  NEXT_SEQ_KEY,
  SYS,
  appletNamespace,
  clKey,
  instanceKey,
} from "./instances.js";
import {
  SCP03_I_PARAM,
  SCP03_ID,
  SECURITY_LEVEL,
  type Scp03Keys,
  SecureChannel,
  type SessionKeys,
  VALID_SECURITY_LEVELS,
  cardCryptogram,
  deriveSessionKeys,
  encodeInitializeUpdateResponse,
  hostCryptogram,
  pseudoRandomCardChallenge,
} from "./scp03.js";
import type { Transaction } from "./store.js";

/** Store key of the SCP03 sequence counter (in the card manager's namespace). */
const SEQUENCE_KEY = "scp03.sequence";
/** Card life cycle SECURED, as GET STATUS reports the ISD. */
const CARD_SECURED = 0x0f;
/** ISD privileges: security domain, card lock/terminate, card reset, CVM management… (GPC 2.3 Table 6-1). */
const ISD_PRIVILEGES = Uint8Array.of(0x9e, 0xfe, 0x80);
/** Status answers are cut to leave room for R-ENC padding and the R-MAC in a short response. */
const STATUS_PAGE = 220;

interface Opening {
  hostChallenge: Bytes;
  cardChallenge: Bytes;
  keys: SessionKeys;
}

export class CardManager implements Applet {
  private opening: Opening | null = null;
  private channel: SecureChannel | null = null;
  private perso: { hex: string; block: number } | null = null;
  private pendingStatus: Bytes[] = [];

  constructor(
    private readonly k: Kernel,
    private readonly keys: Scp03Keys,
    /** Key diversification data sent in INITIALIZE UPDATE: the SE serial, so a TSM finds its keys. */
    private readonly diversification: Bytes,
  ) {
    if (diversification.length !== 10) throw new RangeError("diversification data must be 10 bytes");
  }

  select(): ResponseApdu {
    this.close();
    return response(
      SW.OK,
      tlv(0x6f, [
        { tag: 0x84, value: ISD_AID },
        { tag: 0xa5, value: tlv(0x9f65, Uint8Array.of(0xff)) },
      ]),
    );
  }

  deselect(): void {
    this.close();
  }

  process(c: CommandApdu, ctx: AppletContext): ResponseApdu {
    if ((c.cla & 0x80) === 0) return response(SW.CLA_NOT_SUPPORTED);
    if (c.ins === GP_INS.INITIALIZE_UPDATE && (c.cla & 0x04) === 0) return this.initializeUpdate(c, ctx);
    if (c.ins === GP_INS.EXTERNAL_AUTHENTICATE) return this.externalAuthenticate(c);
    const channel = this.channel;
    if (!channel) return response(SW.SECURITY_STATUS_NOT_SATISFIED);
    const plain = channel.unwrapCommand(c);
    if (!plain.ok) {
      this.close();
      return response(SW.SECURITY_STATUS_NOT_SATISFIED);
    }
    return channel.protectResponse(this.command(plain.value, channel.securityLevel));
  }

  private close(): void {
    this.opening = null;
    this.channel = null;
    this.perso = null;
    this.pendingStatus = [];
  }

  private initializeUpdate(c: CommandApdu, ctx: AppletContext): ResponseApdu {
    this.close();
    if (c.p1 !== 0 && c.p1 !== this.keys.version) return response(SW.REFERENCED_DATA_NOT_FOUND);
    if (c.p2 !== 0) return response(SW.INCORRECT_P1P2);
    if (c.data.length !== 8) return response(SW.WRONG_LENGTH);
    const sequence = (ctx.store.get<number>(SEQUENCE_KEY) ?? 0) + 1;
    if (sequence > 0xffffff) return response(SW.CONDITIONS_NOT_SATISFIED);
    ctx.store.put(SEQUENCE_KEY, sequence);
    const counter = uintBE(sequence, 3);
    const cardChallenge = pseudoRandomCardChallenge(this.keys.enc, counter, ISD_AID);
    const hostChallenge = c.data.slice();
    const keys = deriveSessionKeys(this.keys, hostChallenge, cardChallenge);
    this.opening = { hostChallenge, cardChallenge, keys };
    return response(
      SW.OK,
      encodeInitializeUpdateResponse({
        diversificationData: this.diversification,
        keyVersion: this.keys.version,
        scpId: SCP03_ID,
        iParam: SCP03_I_PARAM,
        cardChallenge,
        cardCryptogram: cardCryptogram(keys.sMac, hostChallenge, cardChallenge),
        sequenceCounter: counter,
      }),
    );
  }

  private externalAuthenticate(c: CommandApdu): ResponseApdu {
    const opening = this.opening;
    this.close();
    if (!opening) return response(SW.CONDITIONS_NOT_SATISFIED);
    if (!VALID_SECURITY_LEVELS.includes(c.p1) || c.p2 !== 0) return response(SW.INCORRECT_P1P2);
    if (c.data.length !== 16) return response(SW.WRONG_LENGTH);
    const channel = new SecureChannel(opening.keys, c.p1);
    const plain = channel.unwrapCommand(c, { decrypt: false });
    const expected = hostCryptogram(opening.keys.sMac, opening.hostChallenge, opening.cardChallenge);
    if (!plain.ok || !equalConstantTime(plain.value.data, expected))
      return response(SW.SECURITY_STATUS_NOT_SATISFIED);
    this.channel = channel;
    return response(SW.OK);
  }

  private command(c: CommandApdu, level: number): ResponseApdu {
    const confidential = (level & SECURITY_LEVEL.C_DECRYPTION) !== 0;
    switch (c.ins) {
      case GP_INS.INSTALL:
        return confidential ? this.installCommand(c) : response(SW.SECURITY_STATUS_NOT_SATISFIED);
      case GP_INS.STORE_DATA:
        return confidential ? this.storeData(c) : response(SW.SECURITY_STATUS_NOT_SATISFIED);
      case GP_INS.DELETE:
        return confidential ? this.deleteCommand(c) : response(SW.SECURITY_STATUS_NOT_SATISFIED);
      case GP_INS.GET_STATUS:
        return this.getStatus(c);
      default:
        return response(SW.INS_NOT_SUPPORTED);
    }
  }

  // ---- INSTALL ------------------------------------------------------------------------------------

  private installCommand(c: CommandApdu): ResponseApdu {
    if (c.p2 !== 0) return response(SW.INCORRECT_P1P2);
    if (c.p1 === INSTALL_FOR.PERSONALIZATION) {
      const aid = parseInstallForPersonalization(c.data);
      if (!aid.ok) return response(aid.error.sw);
      const inst = this.k.instances.get(aid.value);
      if (!inst) return response(SW.REFERENCED_DATA_NOT_FOUND);
      if (!inst.applet.personalize) return response(SW.CONDITIONS_NOT_SATISFIED);
      this.perso = { hex: inst.hex, block: 0 };
      return response(SW.OK);
    }
    if (c.p1 !== INSTALL_FOR.INSTALL_AND_MAKE_SELECTABLE) return response(SW.INCORRECT_P1P2);
    const req = parseInstallForInstall(c.data);
    if (!req.ok) return response(req.error.sw);
    const sw = this.k.transact((txn) => this.installInstance(txn, req.value));
    return sw === SW.OK ? response(SW.OK, Uint8Array.of(0)) : response(sw);
  }

  private installInstance(txn: Transaction, r: InstallRequest): number {
    const hex = toHex(r.aid);
    const reserved = [ISD_AID, CRS_AID, PPSE_NAME].some((a) => equal(a, r.aid));
    if (reserved || txn.get(SYS, instanceKey(hex)) !== undefined) return SW.CONDITIONS_NOT_SATISFIED;
    if (!this.k.packages.has(r.packageId)) return SW.REFERENCED_DATA_NOT_FOUND;
    const seq = txn.get<number>(SYS, NEXT_SEQ_KEY) ?? 1;
    const built = this.k.instances.prepare(r.packageId, r.aid, r.params);
    const record: InstanceRecord = {
      package: r.packageId,
      params: r.params,
      lifecycle: LIFECYCLE.SELECTABLE,
      privileges: toHex(r.privileges),
      seq,
    };
    txn.put(SYS, NEXT_SEQ_KEY, seq + 1);
    txn.put(SYS, instanceKey(hex), record);
    txn.put(SYS, clKey(hex), built.contactless ? CL_STATE.DEACTIVATED : CL_STATE.NON_ACTIVATABLE);
    built.applet.install?.(this.k.contextFor(txn, { aid: r.aid, namespace: appletNamespace(hex) }));
    return SW.OK;
  }

  // ---- STORE DATA ---------------------------------------------------------------------------------

  private storeData(c: CommandApdu): ResponseApdu {
    const perso = this.perso;
    if (!perso) return response(SW.CONDITIONS_NOT_SATISFIED);
    const inst = this.k.instances.get(perso.hex);
    if (!inst?.applet.personalize) return response(SW.CONDITIONS_NOT_SATISFIED);
    // P1 b7-b6: 11 = data encrypted under the DEK (not used: C-DECRYPTION protects it); b5-b4: 10 = BER-TLV.
    if ((c.p1 & 0x60) === 0x60 || (c.p1 & 0x18) === 0x10 || (c.p1 & 0x07) !== 0)
      return response(SW.INCORRECT_P1P2);
    if (c.p2 !== (perso.block & 0xff)) return response(SW.INCORRECT_P1P2);
    const dgis = parseDgis(c.data);
    if (!dgis.ok) return response(dgis.error.sw);
    const personalize = inst.applet.personalize.bind(inst.applet);
    const last = (c.p1 & 0x80) !== 0;
    this.k.transact((txn) => {
      const ctx = this.k.contextFor(txn, inst);
      for (const d of dgis.value) {
        const sw = personalize(d.dgi, d.data, ctx);
        if (sw !== SW.OK) throw new AbortCommand(sw);
      }
      if (last) {
        const rec = txn.get<InstanceRecord>(SYS, instanceKey(inst.hex))!;
        if ((rec.lifecycle & LIFECYCLE.LOCKED_BIT) === 0)
          txn.put(SYS, instanceKey(inst.hex), { ...rec, lifecycle: LIFECYCLE.PERSONALIZED });
      }
    });
    this.perso = last ? null : { hex: perso.hex, block: perso.block + 1 };
    return response(SW.OK);
  }

  // ---- DELETE -------------------------------------------------------------------------------------

  private deleteCommand(c: CommandApdu): ResponseApdu {
    if (c.p1 !== 0 || (c.p2 & 0x7f) !== 0) return response(SW.INCORRECT_P1P2);
    const q = parseAidCriterion(c.data);
    if (!q.ok) return response(q.error.sw);
    if (equal(q.value.aid, ISD_AID) || equal(q.value.aid, CRS_AID))
      return response(SW.CONDITIONS_NOT_SATISFIED);
    const inst = q.value.aid.length > 0 ? this.k.instances.get(q.value.aid) : undefined;
    if (!inst) return response(SW.REFERENCED_DATA_NOT_FOUND);
    this.k.transact((txn) => {
      txn.delete(SYS, instanceKey(inst.hex));
      txn.delete(SYS, clKey(inst.hex));
      for (const key of [DEFAULT_PAYMENT_KEY, EXPRESS_TRANSIT_KEY])
        if (txn.get<string>(SYS, key) === inst.hex) txn.delete(SYS, key);
      txn.clear(inst.namespace);
    });
    if (this.perso?.hex === inst.hex) this.perso = null;
    this.k.forget(inst.hex);
    return response(SW.OK, Uint8Array.of(0));
  }

  // ---- GET STATUS ---------------------------------------------------------------------------------

  private getStatus(c: CommandApdu): ResponseApdu {
    if ((c.p2 & 0xfc) !== 0) return response(SW.INCORRECT_P1P2);
    if (c.p2 & 0x01) return statusPage(this.pendingStatus, STATUS_PAGE);
    const q = parseAidCriterion(c.data);
    if (!q.ok) return response(q.error.sw);
    const tlvFormat = (c.p2 & 0x02) !== 0;
    const entries = this.registryEntries(c.p1);
    if (!entries) return response(SW.INCORRECT_P1P2);
    this.pendingStatus = entries
      .filter((e) => startsWith(e.aid, q.value.aid))
      .map((e) => {
        if (!tlvFormat)
          return concat(Uint8Array.of(e.aid.length), e.aid, Uint8Array.of(e.lifecycle, e.privileges[0] ?? 0));
        const items: Tlv[] = [
          { tag: 0x4f, value: e.aid },
          { tag: 0x9f70, value: Uint8Array.of(e.lifecycle) },
          { tag: 0xc5, value: e.privileges },
        ];
        if (e.loadFile) items.push({ tag: 0xc4, value: e.loadFile });
        if (e.module) items.push({ tag: 0x84, value: e.module });
        return tlv(0xe3, items);
      });
    return statusPage(this.pendingStatus, STATUS_PAGE);
  }

  private registryEntries(
    p1: number,
  ): { aid: Bytes; lifecycle: number; privileges: Bytes; loadFile?: Bytes; module?: Bytes }[] | null {
    const three = (p: Bytes) => (p.length === 3 ? p : Uint8Array.of(p[0] ?? 0, 0, 0));
    switch (p1) {
      case STATUS_OF.ISD:
        return [{ aid: ISD_AID, lifecycle: CARD_SECURED, privileges: ISD_PRIVILEGES }];
      case STATUS_OF.APPLICATIONS:
        return [
          { aid: CRS_AID, lifecycle: LIFECYCLE.SELECTABLE, privileges: new Uint8Array(3) },
          ...this.k.instances.list.map((i) => ({
            aid: i.aid,
            lifecycle: i.lifecycle,
            privileges: three(i.privileges),
            loadFile: ascii(i.packageId),
          })),
        ];
      case STATUS_OF.LOAD_FILES:
      case STATUS_OF.LOAD_FILES_AND_MODULES:
        return [...this.k.packages.keys()].sort().map((id) => ({
          aid: ascii(id),
          lifecycle: 0x01,
          privileges: new Uint8Array(3),
          ...(p1 === STATUS_OF.LOAD_FILES_AND_MODULES ? { module: ascii(id) } : {}),
        }));
      default:
        return null;
    }
  }
}
